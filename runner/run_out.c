/* Output of `runnel run`: every line goes through common/output.h, so secrets and ::add-mask::
 * values are masked on the console, in --json events and in the log files alike. */
#include "runner/run.h"

#include "common/strbuf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void rn_fmt_ms(long ms, char *buf, size_t size) {
    if (ms < 60000)
        snprintf(buf, size, "%.2fs", ms / 1000.0);
    else
        snprintf(buf, size, "%ldm%02lds", ms / 60000, (ms / 1000) % 60);
}

void rn_run_event(rn_run *r, json_t *ev) {
    if (r->opts->json) {
        char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
        rn_out_line(r->out, NULL, s, strlen(s));
        free(s);
    }
    json_decref(ev);
}

void rn_run_msg(rn_run *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rn_sb sb = RN_SB_INIT;
    rn_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    if (r->opts->json) {
        json_t *ev = json_pack("{s:s,s:s}", "event", "message", "text", rn_sb_str(&sb));
        rn_run_event(r, ev);
    } else if (!r->opts->quiet) {
        if (sb.len)
            rn_out_text(r->out, NULL, rn_sb_str(&sb), sb.len);
        else
            rn_out_line(r->out, NULL, "", 0);
    }
    rn_sb_free(&sb);
}

void rn_run_warn(rn_run *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rn_sb sb = RN_SB_INIT;
    rn_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    rn_out_text(r->err, "runnel: warning: ", rn_sb_str(&sb), sb.len);
    if (r->opts->json)
        rn_run_event(r, json_pack("{s:s,s:s}", "event", "warning", "text", rn_sb_str(&sb)));
    rn_sb_free(&sb);
}

void rn_leg_out_init(rn_leg_out *lo, rn_run *r, const char *wf_display, const char *job_id,
                     const char *name, const char *log_path) {
    memset(lo, 0, sizeof *lo);
    lo->run = r;
    lo->prefix = rn_xprintf("[%s/%s] ", wf_display, name);
    lo->job_id = rn_xstrdup(job_id);
    lo->name = rn_xstrdup(name);
    lo->log_fp = log_path ? fopen(log_path, "a") : NULL;
    if (lo->log_fp)
        lo->log = rn_out_new_file(lo->log_fp, r->mask);
}

void rn_leg_out_free(rn_leg_out *lo) {
    rn_out_free(lo->log);
    if (lo->log_fp)
        fclose(lo->log_fp);
    free(lo->prefix);
    free(lo->job_id);
    free(lo->name);
    free(lo->step);
}

static void leg_event(rn_leg_out *lo, const char *event, json_t *extra) {
    if (!lo->run->opts->json) {
        json_decref(extra);
        return;
    }
    json_t *ev = json_pack("{s:s,s:s,s:s}", "event", event, "job", lo->job_id, "name", lo->name);
    if (extra) {
        json_object_update(ev, extra);
        json_decref(extra);
    }
    rn_run_event(lo->run, ev);
}

/* Console (unless quiet/json) and log file. `console` false: log file only. */
static void leg_write(rn_leg_out *lo, bool console, const char *text) {
    if (lo->log)
        rn_out_line(lo->log, NULL, text, strlen(text));
    rn_run_opts *o = lo->run->opts;
    if (console && !o->json && (!o->quiet || lo->loud))
        rn_out_line(lo->run->out, lo->prefix, text, strlen(text));
}

void rn_leg_printf(rn_leg_out *lo, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rn_sb sb = RN_SB_INIT;
    rn_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    lo->loud = !strncmp(rn_sb_str(&sb), "error: ", 7);
    leg_write(lo, true, rn_sb_str(&sb));
    lo->loud = false;
    leg_event(lo, "message", json_pack("{s:s}", "text", rn_sb_str(&sb)));
    rn_sb_free(&sb);
}

static const char *kind_name(rn_log_kind k) {
    switch (k) {
    case RN_LOG_OUTPUT:
        return "output";
    case RN_LOG_INFO:
        return "info";
    case RN_LOG_GROUP:
        return "group";
    case RN_LOG_ENDGROUP:
        return "endgroup";
    case RN_LOG_DEBUG:
        return "debug";
    case RN_LOG_NOTICE:
        return "notice";
    case RN_LOG_WARNING:
        return "warning";
    case RN_LOG_ERROR:
        return "error";
    }
    return "output";
}

static void sink_log(void *ud, rn_log_kind kind, const char *text) {
    rn_leg_out *lo = ud;
    bool verbose = lo->run->opts->verbose;
    rn_sb sb = RN_SB_INIT;
    bool console = true;
    switch (kind) {
    case RN_LOG_OUTPUT:
        rn_sb_printf(&sb, "  | %s", text);
        console = !lo->group || verbose; /* groups are folded on the console */
        break;
    case RN_LOG_INFO:
        rn_sb_printf(&sb, "  %s", text);
        break;
    case RN_LOG_GROUP:
        rn_sb_printf(&sb, "  ▸ %s", text);
        lo->group = 1;
        break;
    case RN_LOG_ENDGROUP:
        lo->group = 0;
        console = false;
        rn_sb_puts(&sb, "  ◂");
        break;
    case RN_LOG_DEBUG:
        rn_sb_printf(&sb, "  debug: %s", text);
        console = verbose;
        break;
    case RN_LOG_NOTICE:
        rn_sb_printf(&sb, "  notice: %s", text);
        break;
    case RN_LOG_WARNING:
        rn_sb_printf(&sb, "  warning: %s", text);
        break;
    case RN_LOG_ERROR:
        rn_sb_printf(&sb, "  error: %s", text);
        break;
    }
    lo->loud = kind == RN_LOG_ERROR || kind == RN_LOG_WARNING; /* shown with -q too */
    leg_write(lo, console, rn_sb_str(&sb));
    lo->loud = false;
    leg_event(lo, "log",
              json_pack("{s:s?,s:s,s:s}", "step", lo->step, "kind", kind_name(kind), "text", text));
    rn_sb_free(&sb);
}

static void sink_add_mask(void *ud, const char *value) {
    rn_leg_out *lo = ud;
    rn_mask_add(lo->run->mask, value);
}

static char *sink_mask(void *ud, const char *text) {
    rn_leg_out *lo = ud;
    return rn_mask_str(lo->run->mask, text);
}

static void sink_step_begin(void *ud, const char *name, int depth) {
    rn_leg_out *lo = ud;
    free(lo->step);
    lo->step = rn_xstrdup(name);
    lo->group = 0;
    char *line = rn_xprintf("%*s⭐ %s", depth * 2, "", name);
    leg_write(lo, true, line);
    free(line);
    leg_event(lo, "step_start", json_pack("{s:s,s:i}", "step", name, "depth", depth));
}

static void sink_step_end(void *ud, const char *name, int depth, rn_step_status outcome,
                          rn_step_status conclusion, long ms) {
    rn_leg_out *lo = ud;
    lo->group = 0;
    char t[32];
    rn_fmt_ms(ms, t, sizeof t);
    const char *word = outcome == RN_STEP_STATUS_SUCCESS     ? "✅  Success"
                       : outcome == RN_STEP_STATUS_FAILURE   ? "❌  Failure"
                       : outcome == RN_STEP_STATUS_CANCELLED ? "🚫  Cancelled"
                                                             : "⏭  Skipped";
    char *line;
    if (outcome == RN_STEP_STATUS_SKIPPED)
        line = rn_xprintf("%*s%s - %s", depth * 2, "", word, name);
    else
        line = rn_xprintf("%*s  %s - %s%s [%s]", depth * 2, "", word, name,
                          outcome != conclusion ? " (continue-on-error)" : "", t);
    leg_write(lo, true, line);
    free(line);
    leg_event(lo, "step_end",
              json_pack("{s:s,s:i,s:s,s:s,s:I}", "step", name, "depth", depth, "outcome",
                        rn_step_status_name(outcome), "conclusion", rn_step_status_name(conclusion),
                        "duration_ms", (json_int_t)ms));
}

rn_step_sink rn_leg_sink(rn_leg_out *lo) {
    rn_step_sink s = {sink_log, sink_add_mask, sink_mask, sink_step_begin, sink_step_end, lo};
    return s;
}
