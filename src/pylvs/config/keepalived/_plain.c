/*
 * pylvs.config.keepalived._plain: plain keepalived.conf lines read into the lexer's open blocks.
 *
 * The same function as plain.py's `_read_py` (its docstring is the contract): a plain line (no
 * quote, escape, `$`, `@`, `~` or NUL, no include) is cut at its first `#`/`!`, stripped of
 * blanks, cut at its braces, and each piece between braces split into words on blanks
 * [acassen/keepalived: lib/parser.c `read_line()`, `alloc_strvec_r()`]; statements become the
 * pending statement of the innermost block, braces open and close blocks, with the same
 * `Statement`, `Word` and `Location` values and the same problems, in the same order.
 *
 * Why C: most of a big configuration is such lines, and reading them in Python took half of
 * `pylvs check`'s time on a 13 MB file (~6 us a line, most of it creating the words and their
 * locations and walking the pieces): here a line costs the objects it yields.
 *
 * Columns and positions are indexes into the file's text (a str), so they count characters as
 * the Python reader does, whatever the text's width.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* A frame of the lexer's stack: [owner, brace, items, pending] (plain.py) */
#define OWNER 0
#define BRACE 1
#define ITEMS 2
#define PENDING 3

static PyTypeObject *Location_type;
static PyTypeObject *Word_type;
static PyTypeObject *Statement_type;
static PyObject *msg_unexpected; /* "Unexpected '{'" */
static PyObject *msg_extra;      /* "Extra '}' found" */
static PyObject *s_include_check;
static PyObject *a_text, *a_path, *a_pos, *a_index, *a_resume, *a_resume_end;

/* Character classes of ASCII; every other character is none of them. */
#define C_BLANK 1   /* " \t": what lines and pieces are stripped of */
#define C_WHITE 2   /* " \t\f\n\r\v": what separates words */
#define C_SPECIAL 4 /* what sends a line to the general path: " \ $ @ ~ NUL */
#define C_COMMENT 8 /* # ! */
#define C_BRACE 16  /* { } */
static unsigned char cls[128];

/* Words interned besides keywords: up to this many characters (plain.py INTERN_MAX) */
#define INTERN_MAX 8
/* Finished top-level statements held before the caller hands them on (plain.py BATCH) */
#define BATCH 64

typedef struct {
    int kind;
    const void *data;
} Text;

static inline Py_UCS4 at(const Text *t, Py_ssize_t i) { return PyUnicode_READ(t->kind, t->data, i); }

static inline int is(const Text *t, Py_ssize_t i, int mask) {
    Py_UCS4 c = at(t, i);
    return c < 128 && (cls[c] & mask);
}

/* A named tuple (Location, Word, Statement) of `n` new references. */
static PyObject *tuple_of(PyTypeObject *type, Py_ssize_t n, PyObject **items) {
    PyObject *t = type->tp_alloc(type, n);
    if (t == NULL) {
        for (Py_ssize_t i = 0; i < n; i++)
            Py_XDECREF(items[i]);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (items[i] == NULL) { /* a failed item: drop the rest */
            for (Py_ssize_t j = i + 1; j < n; j++)
                Py_XDECREF(items[j]);
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, items[i]);
    }
    return t;
}

static PyObject *location(PyObject *path, PyObject *line, Py_ssize_t col) {
    PyObject *items[3] = {Py_NewRef(path), Py_NewRef(line), PyLong_FromSsize_t(col)};
    return tuple_of(Location_type, 3, items);
}

/* Reading state of one call. */
typedef struct {
    PyObject *text;
    Text t;
    PyObject *path;
    PyObject *stack;
    PyObject *report;
    PyObject *include_check;
    PyObject *line; /* the current line's number (an int), or NULL */
    Py_ssize_t line_start;
} Reader;

static PyObject *frame_at(Reader *r, Py_ssize_t i) { return PyList_GET_ITEM(r->stack, i); }

static PyObject *top_frame(Reader *r) { return frame_at(r, PyList_GET_SIZE(r->stack) - 1); }

/* The pending statement of `frame` is finished. */
static int flush(PyObject *frame) {
    PyObject *pending = PyList_GET_ITEM(frame, PENDING);
    if (pending == Py_None)
        return 0;
    if (PyList_Append(PyList_GET_ITEM(frame, ITEMS), pending) < 0)
        return -1;
    Py_INCREF(Py_None);
    PyList_SetItem(frame, PENDING, Py_None);
    return 0;
}

static int report(Reader *r, PyObject *loc, PyObject *msg) {
    PyObject *res = PyObject_CallFunctionObjArgs(r->report, loc, msg, NULL);
    Py_XDECREF(res);
    return res == NULL ? -1 : 0;
}

static int open_block(Reader *r, PyObject *loc) {
    PyObject *frame = top_frame(r);
    PyObject *owner = PyList_GET_ITEM(frame, PENDING);
    if (owner == Py_None && report(r, loc, msg_unexpected) < 0)
        return -1;
    PyObject *items = PyList_New(0);
    if (items == NULL)
        return -1;
    PyObject *child = PyList_New(4);
    if (child == NULL) {
        Py_DECREF(items);
        return -1;
    }
    PyList_SET_ITEM(child, OWNER, Py_NewRef(owner));
    PyList_SET_ITEM(child, BRACE, Py_NewRef(loc));
    PyList_SET_ITEM(child, ITEMS, items);
    PyList_SET_ITEM(child, PENDING, Py_NewRef(Py_None));
    Py_INCREF(Py_None);
    PyList_SetItem(frame, PENDING, Py_None);
    int rc = PyList_Append(r->stack, child);
    Py_DECREF(child);
    return rc;
}

static int close_block(Reader *r, PyObject *loc) {
    PyObject *frame = top_frame(r);
    if (flush(frame) < 0)
        return -1;
    Py_ssize_t depth = PyList_GET_SIZE(r->stack);
    if (depth == 1)
        return report(r, loc, msg_extra);
    Py_INCREF(frame);
    if (PyList_SetSlice(r->stack, depth - 1, depth, NULL) < 0) {
        Py_DECREF(frame);
        return -1;
    }
    PyObject *parent_items = PyList_GET_ITEM(top_frame(r), ITEMS);
    PyObject *owner = PyList_GET_ITEM(frame, OWNER);
    PyObject *items = PyList_GET_ITEM(frame, ITEMS);
    int rc;
    if (owner == Py_None) {
        Py_ssize_t n = PyList_GET_SIZE(parent_items);
        rc = PyList_SetSlice(parent_items, n, n, items);
    } else {
        PyObject *st_items[6] = {
            Py_NewRef(PyTuple_GET_ITEM(owner, 0)), Py_NewRef(PyTuple_GET_ITEM(owner, 1)),
            Py_NewRef(PyTuple_GET_ITEM(owner, 2)), Py_NewRef(PyTuple_GET_ITEM(owner, 3)),
            PyList_AsTuple(items),                 Py_NewRef(loc),
        };
        PyObject *st = tuple_of(Statement_type, 6, st_items);
        rc = st == NULL ? -1 : PyList_Append(parent_items, st);
        Py_XDECREF(st);
    }
    Py_DECREF(frame);
    return rc;
}

/* The statement of text[ps:pe] (no leading or trailing blank) becomes pending. */
static int statement(Reader *r, Py_ssize_t ps, Py_ssize_t pe) {
    PyObject *frame = top_frame(r);
    if (flush(frame) < 0)
        return -1;
    const Text *t = &r->t;
    /* count the words first: the arguments are a tuple of their exact size */
    Py_ssize_t nwords = 0;
    for (Py_ssize_t i = ps; i < pe;) {
        while (i < pe && is(t, i, C_WHITE))
            i++;
        if (i >= pe)
            break;
        nwords++;
        while (i < pe && !is(t, i, C_WHITE))
            i++;
    }
    if (nwords == 0) /* blanks other than space and tab only: no statement */
        return 0;
    PyObject *args = PyTuple_New(nwords - 1);
    if (args == NULL)
        return -1;
    PyObject *keyword = NULL;
    Py_ssize_t kw_end = 0, second = 0, last_end = 0, k = 0;
    for (Py_ssize_t i = ps; i < pe;) {
        while (i < pe && is(t, i, C_WHITE))
            i++;
        if (i >= pe)
            break;
        Py_ssize_t s = i;
        while (i < pe && !is(t, i, C_WHITE))
            i++;
        PyObject *text = PyUnicode_Substring(r->text, s, i);
        if (text != NULL && (k == 0 || i - s <= INTERN_MAX))
            PyUnicode_InternInPlace(&text); /* plain.py says why */
        PyObject *w_items[2] = {
            text,
            location(r->path, r->line, s - r->line_start + 1),
        };
        PyObject *word = tuple_of(Word_type, 2, w_items);
        if (word == NULL)
            goto fail;
        if (k == 0) {
            keyword = word;
            kw_end = i;
        } else {
            PyTuple_SET_ITEM(args, k - 1, word);
            if (k == 1)
                second = s;
        }
        last_end = i;
        k++;
    }
    /* raw: the rest after the keyword, from its next word on; one argument that ends the
       piece is its own raw text (the same str) */
    PyObject *raw;
    PyObject *raw_loc;
    if (nwords == 1) {
        Py_ssize_t s = kw_end;
        while (s < pe && is(t, s, C_WHITE))
            s++;
        raw = PyUnicode_Substring(r->text, s, pe);
        raw_loc = Py_NewRef(Py_None);
    } else {
        PyObject *word2 = PyTuple_GET_ITEM(args, 0);
        if (nwords == 2 && last_end == pe)
            raw = Py_NewRef(PyTuple_GET_ITEM(word2, 0));
        else
            raw = PyUnicode_Substring(r->text, second, pe);
        raw_loc = Py_NewRef(PyTuple_GET_ITEM(word2, 1));
    }
    PyObject *st_items[6] = {keyword, args, raw, raw_loc, Py_NewRef(Py_None), Py_NewRef(Py_None)};
    keyword = args = NULL;
    PyObject *st = tuple_of(Statement_type, 6, st_items);
    if (st == NULL)
        return -1;
    PyList_SetItem(frame, PENDING, st); /* steals st, drops the None */
    PyObject *kw_text = PyTuple_GET_ITEM(PyTuple_GET_ITEM(st, 0), 0);
    if (PyUnicode_GET_LENGTH(kw_text) == 13 && PyUnicode_Compare(kw_text, s_include_check) == 0) {
        PyObject *res = PyObject_CallFunctionObjArgs(r->include_check, st, frame, NULL);
        if (res == NULL)
            return -1;
        Py_DECREF(res);
    }
    return 0;
fail:
    Py_XDECREF(keyword);
    Py_DECREF(args);
    return -1;
}

/* parse_include() of text[s:e] (non-empty, no leading blank): is it an include line? */
static int is_include(const Text *t, Py_ssize_t s, Py_ssize_t e) {
    static const char word[] = "include";
    if (e - s < 8)
        return 0;
    for (int i = 0; i < 7; i++)
        if (at(t, s + i) != (Py_UCS4)word[i])
            return 0;
    if (is(t, s + 7, C_WHITE))
        return 1;
    Py_UCS4 v = at(t, s + 7);
    return (v == 'r' || v == 'm' || v == 'w' || v == 'b' || v == 'a') && e - s > 8 &&
           is(t, s + 8, C_WHITE);
}

static int get_ssize(PyObject *obj, PyObject *name, Py_ssize_t *out) {
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL)
        return -1;
    *out = PyLong_AsSsize_t(v);
    Py_DECREF(v);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static int set_ssize(PyObject *obj, PyObject *name, Py_ssize_t value) {
    PyObject *v = PyLong_FromSsize_t(value);
    if (v == NULL)
        return -1;
    int rc = PyObject_SetAttr(obj, name, v);
    Py_DECREF(v);
    return rc;
}

/* Whether the first word of text[ps:pe] (no leading space or tab) is include_check. */
static int is_include_check(const Text *t, Py_ssize_t ps, Py_ssize_t pe) {
    static const char word[] = "include_check";
    while (ps < pe && is(t, ps, C_WHITE))
        ps++;
    if (pe - ps < 13)
        return 0;
    for (int i = 0; i < 13; i++)
        if (at(t, ps + i) != (Py_UCS4)word[i])
            return 0;
    return ps + 13 == pe || is(t, ps + 13, C_WHITE);
}

/* Whether a brace reports a problem: `{` after no statement, `}` with no open block. */
static int reports(Reader *r, int opening) {
    if (opening)
        return PyList_GET_ITEM(top_frame(r), PENDING) == Py_None;
    return PyList_GET_SIZE(r->stack) == 1;
}

/* The pieces of text[start:stop] of the current line; returns 1 when it stopped before one
   that reports a problem or is an include_check while the top level holds finished
   statements (*resume: where), 0 at the line's end.  *early: the finished statements before
   the last piece read. */
static int pieces(Reader *r, PyObject *top, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t *resume,
                  Py_ssize_t *early) {
    const Text *t = &r->t;
    while (start < stop) {
        Py_ssize_t brace = start;
        while (brace < stop && !is(t, brace, C_BRACE))
            brace++;
        Py_ssize_t ps = start, pe = brace;
        while (ps < pe && is(t, ps, C_BLANK))
            ps++;
        while (pe > ps && is(t, pe - 1, C_BLANK))
            pe--;
        if (ps < pe) {
            if (PyList_GET_SIZE(top) && is_include_check(t, ps, pe)) {
                *resume = start;
                return 1;
            }
            *early = PyList_GET_SIZE(top);
            if (statement(r, ps, pe) < 0)
                return -1;
        }
        if (brace == stop)
            break;
        if (PyList_GET_SIZE(top) && reports(r, at(t, brace) == '{')) {
            *resume = brace;
            return 1;
        }
        PyObject *loc = location(r->path, r->line, brace - r->line_start + 1);
        if (loc == NULL)
            return -1;
        *early = PyList_GET_SIZE(top);
        int rc = at(t, brace) == '{' ? open_block(r, loc) : close_block(r, loc);
        Py_DECREF(loc);
        if (rc < 0)
            return -1;
        start = brace + 1;
    }
    return 0;
}

static PyObject *read_plain(PyObject *self, PyObject *const *argv, Py_ssize_t argc) {
    (void)self;
    if (argc != 5) {
        PyErr_SetString(PyExc_TypeError, "read(src, stack, lines_left, report, include_check)");
        return NULL;
    }
    PyObject *src = argv[0];
    Reader r = {0};
    r.stack = argv[1];
    r.report = argv[3];
    r.include_check = argv[4];
    Py_ssize_t lines_left = PyLong_AsSsize_t(argv[2]);
    if (lines_left == -1 && PyErr_Occurred())
        return NULL;
    if (!PyList_Check(r.stack) || PyList_GET_SIZE(r.stack) < 1) {
        PyErr_SetString(PyExc_TypeError, "stack: a list of frames");
        return NULL;
    }
    Py_ssize_t pos, index, resume, resume_end;
    if (get_ssize(src, a_pos, &pos) < 0 || get_ssize(src, a_index, &index) < 0 ||
        get_ssize(src, a_resume, &resume) < 0 || get_ssize(src, a_resume_end, &resume_end) < 0)
        return NULL;
    r.text = PyObject_GetAttr(src, a_text);
    if (r.text == NULL)
        return NULL;
    r.path = PyObject_GetAttr(src, a_path);
    if (r.path == NULL) {
        Py_DECREF(r.text);
        return NULL;
    }
    PyObject *result = NULL;
    if (r.text == Py_None) {
        Py_SETREF(r.text, PyUnicode_New(0, 0));
        if (r.text == NULL)
            goto done;
    }
    if (!PyUnicode_Check(r.text) || !PyUnicode_Check(r.path)) {
        PyErr_SetString(PyExc_TypeError, "src.text and src.path: str");
        goto done;
    }
    r.t.kind = PyUnicode_KIND(r.text);
    r.t.data = PyUnicode_DATA(r.text);
    const Text *t = &r.t;
    Py_ssize_t n = PyUnicode_GET_LENGTH(r.text);
    PyObject *top = PyList_GET_ITEM(PyList_GET_ITEM(r.stack, 0), ITEMS);
    int ready = 0;
    Py_ssize_t early = 0; /* top-level statements finished before the last piece read */
    for (;;) {
        Py_ssize_t start, stop;
        if (resume) {
            start = resume;
            stop = resume_end;
            resume = resume_end = 0;
            r.line_start = start;
            while (r.line_start > 0 && at(t, r.line_start - 1) != '\n')
                r.line_start--;
            if (r.line == NULL && (r.line = PyLong_FromSsize_t(index)) == NULL)
                goto done;
        } else {
            if (pos >= n || lines_left <= 0)
                break;
            Py_ssize_t end = pos, special = 0;
            while (end < n) {
                Py_UCS4 c = at(t, end);
                if (c == '\n')
                    break;
                if (c < 128 && (cls[c] & C_SPECIAL))
                    special = 1;
                end++;
            }
            if (special)
                break;
            Py_ssize_t cut = end;
            while (cut > pos && at(t, cut - 1) == '\r')
                cut--;
            for (Py_ssize_t i = pos; i < cut; i++)
                if (is(t, i, C_COMMENT)) {
                    cut = i;
                    break;
                }
            Py_ssize_t bs = pos, be = cut;
            while (be > bs && is(t, be - 1, C_BLANK))
                be--;
            while (bs < be && is(t, bs, C_BLANK))
                bs++;
            if (bs == be) {
                pos = end + 1;
                index++;
                continue;
            }
            if (is_include(t, bs, be))
                break;
            if (PyList_GET_SIZE(top) >= BATCH) {
                ready = 1;
                break;
            }
            r.line_start = pos;
            start = bs;
            stop = be;
            pos = end + 1;
            index++;
            lines_left--;
            Py_XSETREF(r.line, PyLong_FromSsize_t(index));
            if (r.line == NULL)
                goto done;
        }
        Py_ssize_t at_piece = 0;
        int rc = pieces(&r, top, start, stop, &at_piece, &early);
        if (rc < 0)
            goto done;
        if (rc == 1) {
            resume = at_piece;
            resume_end = stop;
            ready = 1;
            break;
        }
    }
    if (set_ssize(src, a_pos, pos) < 0 || set_ssize(src, a_index, index) < 0 ||
        set_ssize(src, a_resume, resume) < 0 || set_ssize(src, a_resume_end, resume_end) < 0)
        goto done;
    result = Py_BuildValue("(nOn)", lines_left, ready ? Py_True : Py_False, ready ? 0 : early);
done:
    Py_XDECREF(r.line);
    Py_DECREF(r.text);
    Py_DECREF(r.path);
    return result;
}

/* ---- the keyword dispatch (pylvs.config.keywords.table.dispatch) ------------------------- */

static PyObject *dispatch_one_fn; /* pylvs.config.keywords.table.dispatch_one, on first use */
static PyObject *a_direct, *a_syntax, *a_deprecated;

/* handler(a, b, c) or deprecated(a, b, c, d): 0, or -1 with the exception set */
static int call(PyObject *fn, PyObject **args, size_t n) {
    PyObject *res = PyObject_Vectorcall(fn, args, n, NULL);
    Py_XDECREF(res);
    return res == NULL ? -1 : 0;
}

/* The statement's handler entry of table._direct when `dispatch` may call it at once (the
   statement has the arguments and the block the keyword needs): a new reference, or NULL
   (*err set when an exception is set). */
static PyObject *direct_entry(PyObject *direct, PyObject *st, int *err) {
    *err = 0;
    if (!PyTuple_Check(st) || PyTuple_GET_SIZE(st) < 5)
        return NULL;
    PyObject *keyword = PyTuple_GET_ITEM(st, 0);
    PyObject *args = PyTuple_GET_ITEM(st, 1);
    if (!PyTuple_Check(keyword) || PyTuple_GET_SIZE(keyword) < 1 || !PyTuple_Check(args))
        return NULL;
    PyObject *entry = PyDict_GetItemWithError(direct, PyTuple_GET_ITEM(keyword, 0));
    if (entry == NULL) {
        *err = PyErr_Occurred() != NULL;
        return NULL;
    }
    if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 5)
        return NULL;
    Py_ssize_t need = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 1));
    if (need == -1 && PyErr_Occurred()) {
        *err = 1;
        return NULL;
    }
    PyObject *absent = PyTuple_GET_ITEM(entry, 2);
    int no_block = PyTuple_GET_ITEM(st, 4) == Py_None;
    if (PyTuple_GET_SIZE(args) < need)
        return NULL;
    if (absent != Py_None && no_block != (absent == Py_True))
        return NULL;
    return Py_NewRef(entry);
}

static PyObject *kw_dispatch(PyObject *self, PyObject *const *argv, Py_ssize_t argc) {
    (void)self;
    if (argc != 4) {
        PyErr_SetString(PyExc_TypeError, "dispatch(statements, ctx, table, draft)");
        return NULL;
    }
    PyObject *ctx = argv[1], *table = argv[2], *draft = argv[3];
    if (dispatch_one_fn == NULL) {
        PyObject *mod = PyImport_ImportModule("pylvs.config.keywords.table");
        if (mod == NULL)
            return NULL;
        dispatch_one_fn = PyObject_GetAttrString(mod, "dispatch_one");
        Py_DECREF(mod);
        if (dispatch_one_fn == NULL)
            return NULL;
    }
    PyObject *direct = NULL, *syntax = NULL, *deprecated = NULL, *it = NULL, *st = NULL;
    PyObject *result = NULL;
    if ((direct = PyObject_GetAttr(table, a_direct)) == NULL ||
        (syntax = PyObject_GetAttr(table, a_syntax)) == NULL ||
        (deprecated = PyObject_GetAttr(syntax, a_deprecated)) == NULL)
        goto done;
    if (!PyDict_Check(direct)) {
        PyErr_SetString(PyExc_TypeError, "table._direct: a dict");
        goto done;
    }
    if ((it = PyObject_GetIter(argv[0])) == NULL)
        goto done;
    while ((st = PyIter_Next(it)) != NULL) {
        int err;
        PyObject *entry = direct_entry(direct, st, &err);
        if (err)
            goto done;
        int rc;
        if (entry != NULL) {
            /* what dispatch_one does for such a statement, in the same order */
            PyObject *use_instead = PyTuple_GET_ITEM(entry, 3);
            rc = 0;
            if (use_instead != Py_None) {
                PyObject *dargs[4] = {st, ctx, use_instead, PyTuple_GET_ITEM(entry, 4)};
                rc = call(deprecated, dargs, 4);
            }
            if (rc == 0) {
                PyObject *hargs[3] = {st, ctx, draft};
                rc = call(PyTuple_GET_ITEM(entry, 0), hargs, 3);
            }
            Py_DECREF(entry);
        } else {
            PyObject *oargs[4] = {st, ctx, table, draft};
            rc = call(dispatch_one_fn, oargs, 4);
        }
        Py_CLEAR(st);
        if (rc < 0)
            goto done;
    }
    if (!PyErr_Occurred())
        result = Py_NewRef(Py_None);
done:
    Py_XDECREF(st);
    Py_XDECREF(it);
    Py_XDECREF(deprecated);
    Py_XDECREF(syntax);
    Py_XDECREF(direct);
    return result;
}

/* ---- dotted quads (pylvs.config.keywords.values.address's common case) -------------------- */

static PyObject *ipv4_type; /* ipaddress.IPv4Address, on first use */
static PyObject *a_ip;      /* "_ip": its one slot */

/* The address of `text` when it is four decimal octets 0-255 without leading zeros (exactly
   the dotted quads ipaddress accepts, and values.address's look-up table), else -1. */
static long long dotted_quad(PyObject *text) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n < 7 || n > 15)
        return -1;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    long long value = 0;
    int parts = 0;
    Py_ssize_t i = 0;
    while (parts < 4) {
        Py_ssize_t start = i;
        long octet = 0;
        while (i < n) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c < '0' || c > '9')
                break;
            octet = octet * 10 + (long)(c - '0');
            i++;
        }
        Py_ssize_t len = i - start;
        if (len == 0 || len > 3 || octet > 255)
            return -1;
        if (len > 1 && PyUnicode_READ(kind, data, start) == '0')
            return -1;
        value = value << 8 | octet;
        parts++;
        if (parts < 4) {
            if (i >= n || PyUnicode_READ(kind, data, i) != '.')
                return -1;
            i++;
        }
    }
    return i == n ? value : -1;
}

static PyObject *ipv4(PyObject *self, PyObject *text) {
    (void)self;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "ipv4(text): a str");
        return NULL;
    }
    long long value = dotted_quad(text);
    if (value < 0)
        Py_RETURN_NONE;
    if (ipv4_type == NULL) {
        PyObject *mod = PyImport_ImportModule("ipaddress");
        if (mod == NULL)
            return NULL;
        ipv4_type = PyObject_GetAttrString(mod, "IPv4Address");
        Py_DECREF(mod);
        if (ipv4_type == NULL)
            return NULL;
        if (!PyType_Check(ipv4_type)) {
            Py_CLEAR(ipv4_type);
            PyErr_SetString(PyExc_TypeError, "ipaddress.IPv4Address is not a type");
            return NULL;
        }
    }
    /* IPv4Address(int) without its Python __init__, which only checks the range (a dotted
       quad is in it) and stores _ip */
    PyTypeObject *type = (PyTypeObject *)ipv4_type;
    PyObject *addr = type->tp_alloc(type, 0);
    if (addr == NULL)
        return NULL;
    PyObject *ip = PyLong_FromLongLong(value);
    if (ip == NULL || PyObject_GenericSetAttr(addr, a_ip, ip) < 0) {
        Py_XDECREF(ip);
        Py_DECREF(addr);
        return NULL;
    }
    Py_DECREF(ip);
    return addr;
}

/* `IP [PORT]` of virtual_server/real_server/sorry_server (lvs/common.py read_addr_port) when
   both are in their common form: a dotted quad (as ipv4) and no port, a port of zeros, or a
   port of up to 9 ASCII digits in 1..65535 (values.unsigned's fast path): (address, port), else
   None (the Python reader then reads and reports as before). */
/* The text of word `i` of the words `args` (a borrowed str), or NULL if it is none. */
static PyObject *word_text(PyObject *args, Py_ssize_t i) {
    PyObject *word = PyTuple_GET_ITEM(args, i);
    if (!PyTuple_Check(word) || PyTuple_GET_SIZE(word) < 1)
        return NULL;
    PyObject *text = PyTuple_GET_ITEM(word, 0);
    return PyUnicode_Check(text) ? text : NULL;
}

static PyObject *addr_port(PyObject *self, PyObject *args) {
    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 1) {
        PyErr_SetString(PyExc_TypeError, "addr_port(args): a tuple of words");
        return NULL;
    }
    long port = 0;
    if (PyTuple_GET_SIZE(args) >= 2) {
        PyObject *text = word_text(args, 1);
        if (text == NULL)
            Py_RETURN_NONE;
        Py_ssize_t n = PyUnicode_GET_LENGTH(text);
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        int zeros = n > 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c < '0' || c > '9' || n > 9)
                Py_RETURN_NONE;
            zeros = zeros && c == '0';
            port = port * 10 + (long)(c - '0');
        }
        if (!zeros && (port < 1 || port > 65535))
            Py_RETURN_NONE;
    }
    PyObject *text = word_text(args, 0);
    if (text == NULL)
        Py_RETURN_NONE;
    PyObject *addr = ipv4(self, text);
    if (addr == NULL || addr == Py_None)
        return addr;
    PyObject *p = PyLong_FromLong(port);
    if (p == NULL) {
        Py_DECREF(addr);
        return NULL;
    }
    PyObject *result = PyTuple_Pack(2, addr, p);
    Py_DECREF(addr);
    Py_DECREF(p);
    return result;
}

static PyMethodDef methods[] = {
    {"addr_port", (PyCFunction)addr_port, METH_O,
     "addr_port(args) -> (IPv4Address, int) | None\n\n"
     "A server line's dotted quad and port in their common form, else None."},
    {"ipv4", (PyCFunction)ipv4, METH_O,
     "ipv4(text) -> IPv4Address | None\n\n"
     "The address of a dotted quad ipaddress accepts (four octets 0-255, no leading zero),\n"
     "else None."},
    {"dispatch", (PyCFunction)(void (*)(void))kw_dispatch, METH_FASTCALL,
     "dispatch(statements, ctx, table, draft) -> None\n\n"
     "pylvs.config.keywords.table.dispatch: every statement of a section through `table`."},
    {"read", (PyCFunction)(void (*)(void))read_plain, METH_FASTCALL,
     "read(src, stack, lines_left, report, include_check) -> (lines_left, ready, early)\n\n"
     "Plain lines of the file `src` into the lexer's stack (pylvs.config.keepalived.plain)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "pylvs.config.keepalived._plain",
    .m_doc = "Plain keepalived.conf lines read into the lexer's open blocks (see plain.py).",
    .m_size = -1,
    .m_methods = methods,
};

static PyTypeObject *type_from(const char *module_name, const char *name) {
    PyObject *mod = PyImport_ImportModule(module_name);
    if (mod == NULL)
        return NULL;
    PyObject *obj = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    if (obj == NULL)
        return NULL;
    if (!PyType_Check(obj) || !PyType_IsSubtype((PyTypeObject *)obj, &PyTuple_Type)) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a tuple type", module_name, name);
        Py_DECREF(obj);
        return NULL;
    }
    return (PyTypeObject *)obj;
}

PyMODINIT_FUNC PyInit__plain(void) {
    cls[' '] = cls['\t'] = C_BLANK | C_WHITE;
    cls['\f'] = cls['\n'] = cls['\r'] = cls['\v'] = C_WHITE;
    cls['"'] = cls['\\'] = cls['$'] = cls['@'] = cls['~'] = cls[0] = C_SPECIAL;
    cls['#'] = cls['!'] = C_COMMENT;
    cls['{'] = cls['}'] = C_BRACE;
    if ((Location_type = type_from("pylvs.config.errors", "Location")) == NULL ||
        (Word_type = type_from("pylvs.config.tree", "Word")) == NULL ||
        (Statement_type = type_from("pylvs.config.tree", "Statement")) == NULL)
        return NULL;
    msg_unexpected = PyUnicode_InternFromString("Unexpected '{'");
    msg_extra = PyUnicode_InternFromString("Extra '}' found");
    s_include_check = PyUnicode_InternFromString("include_check");
    a_text = PyUnicode_InternFromString("text");
    a_path = PyUnicode_InternFromString("path");
    a_pos = PyUnicode_InternFromString("pos");
    a_index = PyUnicode_InternFromString("index");
    a_resume = PyUnicode_InternFromString("resume");
    a_resume_end = PyUnicode_InternFromString("resume_end");
    a_direct = PyUnicode_InternFromString("_direct");
    a_syntax = PyUnicode_InternFromString("syntax");
    a_deprecated = PyUnicode_InternFromString("deprecated");
    a_ip = PyUnicode_InternFromString("_ip");
    if (!msg_unexpected || !msg_extra || !s_include_check || !a_text || !a_path || !a_pos ||
        !a_index || !a_resume || !a_resume_end || !a_direct || !a_syntax || !a_deprecated ||
        !a_ip)
        return NULL;
    return PyModule_Create(&module);
}
