require('fs').appendFileSync(process.env.GITHUB_STATE, 'mark=onfail-state\n');
console.log('onfail main: ran');
