const fs = require('fs');
console.log(`pre: input=${process.env['INPUT_GREETING_WORD']}`);
fs.appendFileSync(process.env.GITHUB_STATE, 'from_pre=pre-value\n');
