console.log(`post: pre=${process.env.STATE_from_pre} main=${process.env.STATE_from_main}`);
