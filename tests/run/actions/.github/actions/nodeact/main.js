const fs = require('fs');
console.log(`main: input=${process.env['INPUT_GREETING_WORD']} state=${process.env.STATE_from_pre || 'none'}`);
fs.appendFileSync(process.env.GITHUB_STATE, 'from_main=main-value\n');
fs.appendFileSync(process.env.GITHUB_OUTPUT, 'result=node-ok\n');
if (process.env['INPUT_FAIL-MAIN'] === 'true') { console.log('::error::main failing on purpose'); process.exit(2); }
