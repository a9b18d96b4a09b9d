const fs = require('fs');
console.log(`inner main: word=${process.env.INPUT_WORD} pre-state=${process.env.STATE_from_pre || 'none'}`);
fs.appendFileSync(process.env.GITHUB_STATE, `from_main=main-${process.env.INPUT_WORD}\n`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `said=${process.env.INPUT_WORD}!\n`);
