/* Workflow commands: the `::name k=v,...::data` lines (and the legacy `##[name k=v;...]data`
 * form) that a step prints on stdout/stderr, interpreted with actions/runner's rules
 * (src/Runner.Common/ActionCommand.cs, src/Runner.Worker/ActionCommandManager.cs).
 *
 * Two layers:
 *  - rn_cmd_parse(): one line -> one parsed command (pure, stateless).
 *  - rn_cmd_proc: the per-step state machine (stop-commands, echo). The step executor feeds it
 *    every output line; it returns a list of actions (print, group, annotation, mask, set output,
 *    ...). It never prints, spawns or touches the environment itself: the runner decides.
 *
 * Ownership: an rn_cmd from rn_cmd_parse() owns its strings; free it with rn_cmd_free().
 * The rn_cmd_result returned by rn_cmd_proc_feed() (and every string it points to) is owned by
 * the processor and stays valid until the next rn_cmd_proc_feed() or rn_cmd_proc_free().
 * Pure: no processes, no I/O. Owner: actions/commands (workflow-commands engineer). */
#ifndef RN_ACTIONS_COMMANDS_H
#define RN_ACTIONS_COMMANDS_H

#include "common/arena.h"

#include <stdbool.h>
#include <stddef.h>

/* The command names GitHub registers (anything else is plain output). */
typedef enum rn_cmd_kind {
    RN_CMD_UNKNOWN = 0, /* only for the stop token: not one of the names below */
    RN_CMD_ADD_MASK,
    RN_CMD_GROUP,
    RN_CMD_ENDGROUP,
    RN_CMD_DEBUG,
    RN_CMD_NOTICE,
    RN_CMD_WARNING,
    RN_CMD_ERROR,
    RN_CMD_STOP_COMMANDS,
    RN_CMD_ECHO,
    RN_CMD_SET_OUTPUT,
    RN_CMD_SET_ENV,
    RN_CMD_ADD_PATH,
    RN_CMD_SAVE_STATE,
    RN_CMD_ADD_MATCHER,
    RN_CMD_REMOVE_MATCHER,
    RN_CMD_KIND_COUNT
} rn_cmd_kind;

typedef struct rn_cmd_prop {
    char *key, *value; /* value unescaped; keys compare ASCII case-insensitively */
} rn_cmd_prop;

typedef struct rn_cmd {
    rn_cmd_kind kind;
    char *name;  /* as written in the line (case preserved) */
    bool legacy; /* parsed from the `##[name k=v;]data` form */
    rn_cmd_prop *props;
    size_t nprops;
    char *data; /* unescaped message; "" when empty */
} rn_cmd;

/* The lowercase name of a kind ("add-mask", ...); "" for RN_CMD_UNKNOWN. */
const char *rn_cmd_kind_name(rn_cmd_kind k);

/* Parses one output line (without its line terminator; a NUL byte ends it). Tries the `::` form
 * first, then the legacy `##[` form, like the runner. Returns true and fills *out when the line
 * names a registered command, or `extra_name` (the pending stop token, may be NULL). The
 * registered set is every kind except those whose bit is set in `disabled_mask`
 * (1u << kind; see rn_cmd_proc for why a name can be unregistered). */
bool rn_cmd_parse(const char *line, size_t len, const char *extra_name, unsigned disabled_mask,
                  rn_cmd *out);
void rn_cmd_free(rn_cmd *c);
/* Property lookup, ASCII case-insensitive; NULL when absent. */
const char *rn_cmd_prop_get(const rn_cmd *c, const char *key);

/* ---- The per-step processor ---- */

typedef enum rn_cmd_level {
    RN_LEVEL_DEBUG,
    RN_LEVEL_NOTICE,
    RN_LEVEL_WARNING,
    RN_LEVEL_ERROR,
} rn_cmd_level;

typedef enum rn_cmd_action_kind {
    RN_ACT_PRINT,       /* write `text` to the log as is (the runner still masks secrets) */
    RN_ACT_GROUP,       /* open a collapsible group titled `text` (GitHub logs `##[group]text`) */
    RN_ACT_ENDGROUP,    /* close it (`##[endgroup]`) */
    RN_ACT_DEBUG,       /* `text` is a debug message, shown only with step debug logging */
    RN_ACT_ANNOTATION,  /* an issue: level, text, and optional file/title/line/col... */
    RN_ACT_ADD_MASK,    /* register `text` as a secret */
    RN_ACT_SET_OUTPUT,  /* step output `name` = `text` */
    RN_ACT_SET_ENV,     /* env var `name` = `text` for later steps */
    RN_ACT_ADD_PATH,    /* prepend `text` to PATH for later steps */
    RN_ACT_SAVE_STATE,  /* action state `name` = `text` (for the post step) */
    RN_ACT_ADD_MATCHER, /* problem matcher file `text` (runnel accepts and may ignore it) */
    RN_ACT_REMOVE_MATCHER, /* by owner `name` or file `text` (one of them is NULL) */
    RN_ACT_FAIL_STEP,      /* the runner marks the step's command result as failed */
} rn_cmd_action_kind;

typedef struct rn_cmd_action {
    rn_cmd_action_kind kind;
    rn_cmd_level level; /* RN_ACT_ANNOTATION only */
    const char *name;   /* SET_OUTPUT / SET_ENV / SAVE_STATE / REMOVE_MATCHER owner */
    const char *text;   /* message, value, path or line */
    size_t text_len;    /* strlen(text), or the raw line length for RN_ACT_PRINT */
    /* RN_ACT_ANNOTATION from ::notice/warning/error:: only (NULL / 0 when absent). Line and
     * column values are checked the way the runner does (see docs/workflow-commands.md). */
    const char *file, *title;
    int line, end_line, col, end_col;
} rn_cmd_action;

typedef struct rn_cmd_result {
    bool is_command; /* the line was consumed as a command (false: plain output) */
    rn_cmd_kind kind;
    rn_cmd_action *actions;
    size_t count;
} rn_cmd_result;

typedef struct rn_cmd_config {
    /* ACTIONS_ALLOW_UNSECURE_COMMANDS: enables ::set-env:: and ::add-path::. The runner reads the
     * process environment, then the step's env context; use rn_dotnet_bool() on the value. */
    bool allow_unsecure_commands;
    /* ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS (rn_convert_to_boolean() on the value): allows
     * an empty stop token, `pause-logging` or a command name as the token. */
    bool allow_unsecure_stop_tokens;
    /* Initial echo state: the runner starts with echo on when step debug (ACTIONS_STEP_DEBUG)
     * is on. */
    bool echo;
    /* Emit GitHub's deprecation warning for ::set-output:: and ::save-state:: (default on). */
    bool warn_deprecated;
    /* github.workspace: an annotation `file` under it is made relative, like the runner does.
     * NULL to keep paths as given. */
    const char *workspace;
} rn_cmd_config;

/* Defaults: everything off except warn_deprecated. */
void rn_cmd_config_default(rn_cmd_config *c);

typedef struct rn_cmd_proc rn_cmd_proc;

rn_cmd_proc *rn_cmd_proc_new(const rn_cmd_config *cfg); /* copies cfg (workspace too) */
void rn_cmd_proc_free(rn_cmd_proc *p);
/* Processes one output line (no terminator). Never NULL. Plain output yields one RN_ACT_PRINT
 * of the line itself; a recognised command yields zero or more actions in the order the runner
 * performs them (e.g. echo line, then errors, then RN_ACT_FAIL_STEP). */
const rn_cmd_result *rn_cmd_proc_feed(rn_cmd_proc *p, const char *line, size_t len);
bool rn_cmd_proc_echo(const rn_cmd_proc *p);
/* The pending stop token, or NULL when commands are being processed. */
const char *rn_cmd_proc_stop_token(const rn_cmd_proc *p);

/* GitHub's raw-log line for an annotation: `##[error]message` (warning, notice, debug alike).
 * Caller frees. */
char *rn_cmd_annotation_log_line(const rn_cmd_action *a);

/* .NET bool.TryParse: "true"/"false" in any case, surrounding whitespace allowed; anything else
 * (and NULL) is false. Used for ACTIONS_ALLOW_UNSECURE_COMMANDS. */
bool rn_dotnet_bool(const char *s);
/* The runner's StringUtil.ConvertToBoolean: "1", "true", "$true" (any case) are true. */
bool rn_convert_to_boolean(const char *s);

#endif
