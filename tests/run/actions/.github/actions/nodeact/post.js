console.log(`post: pre=${process.env.STATE_from_pre || 'none'} main=${process.env.STATE_from_main}`);
