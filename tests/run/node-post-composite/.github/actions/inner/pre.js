console.log('inner pre: ran');
require('fs').appendFileSync(process.env.GITHUB_STATE, 'from_pre=pre-value\n');
