/*
 * The chunked transfer coding as HAProxy 2.6 reads it, for _pump.c's CHUNKED body mode.
 *
 * The grammar and the verdicts are pylvs.proto.http.chunked's (the Python reference, which
 * follows include/haproxy/h1.h h1_parse_chunk_size() and h1_skip_chunk_crlf()):
 *     chunk-size line = 1*HEXDIG *(SP / HT) [ ";" anything-but-CR-or-LF ] [CR] LF
 *     a size of 2^52 or more is refused at the start of its line
 *     chunk data is followed by CRLF or a bare LF
 * Each byte refused is refused where the reference refuses it (tests/unit/dataplane/proxy
 * compares the two on the same inputs, cut at any points).  Unlike the reference, which
 * waits for a whole size line, this reads byte by byte and keeps its place between reads,
 * so nothing but the trailer block is ever held.
 *
 * What it writes is HAProxy's output form: each chunk again with a normalised size line
 * (`%X\r\n`, extensions dropped: h1_emit_chunk_size), its data, CRLF.  The last chunk is not
 * written: its trailer block (raw, from after the `0` line up to and including the empty
 * line) is handed to Python, which applies the header-field rules to it and writes the last
 * chunk with the fields it keeps.  The block is cut at `tmax` bytes (the head limit), or at a
 * CR alone at a line's start: Python's rules then refuse it, as they refuse a head that does
 * not end.  Other broken fields are only found by those rules, once the block has ended.
 */
#ifndef PYLVS_CHUNKED_H
#define PYLVS_CHUNKED_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_CHUNK (1ULL << 52)

/* How a body hand-over ended (the `body` callback's `kind`). */
#define BODY_SENT 1    /* LENGTH: the budget was relayed */
#define BODY_LAST 2    /* CHUNKED: the last chunk and its trailer block were read */
#define BODY_REFUSED 3 /* CHUNKED: a byte broke the grammar (its offset is given) */
#define BODY_CUT 4     /* EOF before the body ended */

/* Where the reader is (Body.st). */
enum {
    CS_SIZE0,  /* at a size line's first byte: a hex digit */
    CS_SIZE,   /* in its digits */
    CS_BLANK,  /* after blanks: more blanks, ';', CR or LF */
    CS_EXT,    /* in an extension: anything up to CR or LF */
    CS_SIZE_LF, /* after the line's CR: LF */
    CS_DATA,   /* chunk data: `left` bytes more */
    CS_CRLF,   /* after chunk data: CR or LF */
    CS_LF,     /* after that CR: LF */
    CS_TRAIL,  /* the trailer block, up to its empty line */
    CS_DONE,   /* the message ended (or its trailer block reached `tmax`) */
    CS_BAD,    /* a byte was refused at `bad` */
};

/* One message's reading state. */
typedef struct {
    int st;
    int tl;            /* CS_TRAIL: 0 at a line's start, 1 after a CR there, 2 inside a line */
    uint64_t left;     /* CS_DATA: data bytes left in this chunk */
    uint64_t value;    /* the size being read */
    uint64_t line;     /* offset of the size line being read */
    uint64_t off;      /* bytes of the message read so far (the offset of the next one) */
    uint64_t payload;  /* chunk data bytes so far */
    uint64_t bad;      /* CS_BAD: offset of the refused byte */
    char *tbuf;        /* the trailer block read so far */
    Py_ssize_t tlen;
    Py_ssize_t tmax;   /* its cap */
} Chunks;

static inline int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static void chunks_start(Chunks *c, Py_ssize_t tmax) {
    PyMem_Free(c->tbuf);
    memset(c, 0, sizeof(*c));
    c->st = CS_SIZE0;
    c->tmax = tmax;
}

static void chunks_free(Chunks *c) {
    PyMem_Free(c->tbuf);
    c->tbuf = NULL;
    c->tlen = 0;
}

/* The fewest bytes that can still come before the message ends: a read of that many can
   never take the next message's bytes off the socket. */
static uint64_t chunks_safe(const Chunks *c) {
    switch (c->st) {
    case CS_DATA:
        return c->left + 4; /* LF, "0", LF, LF */
    case CS_CRLF:
    case CS_LF:
        return 4;
    case CS_SIZE0:
        return 3;
    case CS_TRAIL:
        return 1;
    default:
        return c->value ? c->value + 4 : 2;
    }
}

/* The end of a size line: a chunk starts, or the last chunk's trailer block. */
static char *size_line_ended(Chunks *c, char *o) {
    if (c->value == 0) {
        c->st = CS_TRAIL;
        c->tl = 0;
        return o;
    }
    c->left = c->value;
    c->st = CS_DATA;
    return o + sprintf(o, "%llX\r\n", (unsigned long long)c->value);
}

/* A trailer-block byte; 0 when the block goes on. */
static int trailer_byte(Chunks *c, unsigned char ch) {
    if (c->tbuf == NULL) {
        c->tbuf = PyMem_Malloc((size_t)c->tmax);
        if (c->tbuf == NULL) {
            return -1;
        }
    }
    c->tbuf[c->tlen++] = (char)ch;
    if (ch == '\n') {
        if (c->tl < 2) {
            c->st = CS_DONE; /* an empty line (LF or CRLF) */
            return 1;
        }
        c->tl = 0;
    } else if (c->tl == 1) {
        c->st = CS_DONE; /* a CR alone at a line's start: the field rules refuse it */
        return 1;
    } else {
        c->tl = (ch == '\r' && c->tl == 0) ? 1 : 2;
    }
    if (c->tlen >= c->tmax) {
        c->st = CS_DONE; /* cut: Python's field rules refuse a block this long */
        return 1;
    }
    return 0;
}

/* Read `n` bytes of the message; write what goes on at `out` (at most 2n + 16 bytes), its
   length at `*olen`.  Returns the bytes read: all of them unless the message ended (CS_DONE)
   or a byte was refused (CS_BAD, that byte not read), or -1 (no memory for the trailers). */
static Py_ssize_t chunks_read(Chunks *c, const char *in, Py_ssize_t n, char *out,
                              Py_ssize_t *olen) {
    Py_ssize_t i = 0;
    char *o = out;
    while (i < n) {
        unsigned char ch = (unsigned char)in[i];
        int h;
        switch (c->st) {
        case CS_DATA: {
            Py_ssize_t take = n - i;
            if ((uint64_t)take > c->left) {
                take = (Py_ssize_t)c->left;
            }
            memcpy(o, in + i, (size_t)take);
            o += take;
            i += take;
            c->left -= (uint64_t)take;
            c->payload += (uint64_t)take;
            if (c->left == 0) {
                c->st = CS_CRLF;
            }
            continue;
        }
        case CS_SIZE0:
            c->line = c->off + (uint64_t)i;
            h = hexval(ch);
            if (h < 0) {
                goto bad;
            }
            c->value = (uint64_t)h;
            c->st = CS_SIZE;
            break;
        case CS_SIZE:
            h = hexval(ch);
            if (h >= 0) {
                c->value = c->value * 16 + (uint64_t)h;
                if (c->value >= MAX_CHUNK) {
                    c->bad = c->line; /* refused at the line's start, as the reference does */
                    c->st = CS_BAD;
                    goto out;
                }
                break;
            }
            c->st = CS_BLANK;
            /* fall through: the byte after the digits */
        case CS_BLANK:
            if (ch == ' ' || ch == '\t') {
                break;
            }
            if (ch == ';') {
                c->st = CS_EXT;
                break;
            }
            /* fall through: CR, LF, or refused */
        case CS_EXT:
            if (ch == '\r') {
                c->st = CS_SIZE_LF;
            } else if (ch == '\n') {
                o = size_line_ended(c, o);
            } else if (c->st != CS_EXT) {
                goto bad;
            }
            break;
        case CS_SIZE_LF:
            if (ch != '\n') {
                goto bad;
            }
            o = size_line_ended(c, o);
            break;
        case CS_CRLF:
            if (ch == '\r') {
                c->st = CS_LF;
                break;
            }
            /* fall through */
        case CS_LF:
            if (ch != '\n') {
                goto bad;
            }
            *o++ = '\r';
            *o++ = '\n';
            c->st = CS_SIZE0;
            break;
        case CS_TRAIL:
            h = trailer_byte(c, ch);
            if (h < 0) {
                return -1;
            }
            if (h > 0) {
                i++;
                goto out;
            }
            break;
        default: /* CS_DONE, CS_BAD: nothing more is read */
            goto out;
        }
        i++;
    }
    goto out;
bad:
    c->bad = c->off + (uint64_t)i;
    c->st = CS_BAD;
out:
    c->off += (uint64_t)i;
    *olen = o - out;
    return i;
}

/* Dechunker(cap): the CHUNKED mode's reader on bytes given to it, so the grammar is tested
   against the Python reference without sockets (tests/unit/dataplane/proxy). */
typedef struct {
    PyObject_HEAD
    Chunks chunks;
} Dechunker;

static void Dechunker_dealloc(Dechunker *self) {
    chunks_free(&self->chunks);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Dechunker_init(Dechunker *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"cap", NULL};
    Py_ssize_t cap;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n", kwlist, &cap)) {
        return -1;
    }
    if (cap <= 0) {
        PyErr_SetString(PyExc_ValueError, "cap must be positive");
        return -1;
    }
    chunks_start(&self->chunks, cap);
    return 0;
}

/* feed(data) -> (what goes on, bytes read) */
static PyObject *Dechunker_feed(Dechunker *self, PyObject *arg) {
    Py_buffer in;
    if (PyObject_GetBuffer(arg, &in, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    char *out = PyMem_Malloc((size_t)in.len * 2 + 16);
    if (out == NULL) {
        PyBuffer_Release(&in);
        return PyErr_NoMemory();
    }
    Py_ssize_t olen = 0;
    Py_ssize_t used = chunks_read(&self->chunks, in.buf, in.len, out, &olen);
    PyBuffer_Release(&in);
    PyObject *res = used < 0 ? PyErr_NoMemory() : Py_BuildValue("y#n", out, olen, used);
    PyMem_Free(out);
    return res;
}

/* state() -> (0 going on | BODY_LAST | BODY_REFUSED, offset refused, chunk data bytes,
   trailer block) */
static PyObject *Dechunker_state(Dechunker *self, PyObject *Py_UNUSED(ignored)) {
    Chunks *c = &self->chunks;
    int kind = c->st == CS_DONE ? BODY_LAST : c->st == CS_BAD ? BODY_REFUSED : 0;
    return Py_BuildValue("iKKy#", kind, (unsigned long long)c->bad,
                         (unsigned long long)c->payload, c->tbuf ? c->tbuf : "", c->tlen);
}

static PyMethodDef Dechunker_methods[] = {
    {"feed", (PyCFunction)Dechunker_feed, METH_O,
     "feed(data) -> (bytes to pass on, bytes read)."},
    {"state", (PyCFunction)Dechunker_state, METH_NOARGS,
     "(0 | BODY_LAST | BODY_REFUSED, offset refused, chunk data bytes, trailer block)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DechunkerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pylvs.dataplane.proxy._pump.Dechunker",
    .tp_basicsize = sizeof(Dechunker),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "the CHUNKED body mode's reader, on bytes",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Dechunker_init,
    .tp_dealloc = (destructor)Dechunker_dealloc,
    .tp_methods = Dechunker_methods,
};

#endif
