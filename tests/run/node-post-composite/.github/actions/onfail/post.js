console.log(`onfail post: state=${process.env.STATE_mark} inner-state=${process.env.STATE_from_main || 'none'}`);
