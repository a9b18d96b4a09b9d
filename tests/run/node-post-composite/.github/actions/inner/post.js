console.log(`inner post: word=${process.env.INPUT_WORD} state=${process.env.STATE_from_main} ` +
            `pre-state=${process.env.STATE_from_pre || 'none'} path=${process.env.GITHUB_ACTION_PATH.replace(/.*\/\.github/, '.github')}`);
