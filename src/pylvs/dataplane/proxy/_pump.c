/*
 * pylvs.dataplane.proxy._pump: the proxy's epoll dispatch with an established-relay fast path.
 *
 * Why C: per keep-alive request the Python relay made the same four system calls as HAProxy
 * (recv and send on each side) and spent the same kernel time, but about 3.5 us of user time
 * against HAProxy's 1.3 us: the interpreter's socket-call wrappers, the dispatch of each event
 * to a Python handler and the per-chunk bookkeeping.  This module does, for a socket marked
 * "fast" by the Python relay, what the relay's common case does (recv into a buffer, send it
 * all to the peer socket, count one packet and its bytes) without entering Python; every other
 * event goes to the Python handler registered for the descriptor, exactly as
 * poller.Poller._run does.  Python stays the owner of every decision: it sets a socket's mode
 * (`set`) from the relay's state after every change and clears it on any state the C path
 * does not cover.  MODE_DATA (established, reading, the peer has nothing queued): relay plain
 * reads.  MODE_EOF_SHUT: on EOF, shut the peer down for writing and stop watching the socket,
 * as the relay's _eof would.  MODE_EOF_CLOSE (the peer's EOF was passed on already): on EOF,
 * close both sockets.  Each EOF taken is reported at once through `ended`, so the relay's
 * state and the connection table move before the next event.  What the fast path cannot
 * finish (the peer took only part of a chunk, a send or recv failed) is handed back through
 * the `spill` callback with the bytes involved, and the socket is unmarked before that call.
 *
 * Counters are kept per descriptor (packets, bytes, time of the last chunk on CLOCK_MONOTONIC,
 * the clock of time.monotonic) and collected by Python with `harvest` (every descriptor with
 * something new) or `clear` (one descriptor, when it stops being fast).
 *
 * The body modes (MODE_LENGTH, MODE_CHUNKED: `set_body`, _body.h) relay one HTTP message
 * body for the HTTP driver and hand the socket back when it ends (`body`): see _body.h.
 * Spliced sessions (MODE_SPLICE: `splice`, _splice.h) run a plain stream's whole
 * established life, both sockets registered here, and report once at the end (`done`).
 *
 * Events are level-triggered (epoll(7)), so a chunk left unread is reported again.  A
 * descriptor closed inside a batch (by take_eof, or by Python through `drop`) has its later
 * events in that batch dropped, since its number may already name a new socket.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "_chunked.h"

#define MAX_EVENTS 256

/* What the C path may do for a socket (a bit set, chosen by the Python relay). */
#define MODE_DATA 1      /* relay plain reads to the peer */
#define MODE_EOF_SHUT 2  /* on EOF: shutdown(peer, SHUT_WR), stop watching this socket */
#define MODE_EOF_CLOSE 4 /* on EOF: close this socket and the peer (both directions over) */
#define MODE_EOF (MODE_EOF_SHUT | MODE_EOF_CLOSE)
/* Body modes (set_body): one HTTP message body from this socket to the peer, then back. */
#define MODE_LENGTH 8   /* relay exactly `left` bytes, never reading past them */
#define MODE_CHUNKED 16 /* relay a chunked body (_chunked.h), re-framed, up to its trailers */
#define MODE_BODY (MODE_LENGTH | MODE_CHUNKED)
#define MODE_SPLICE 32 /* a whole spliced session (splice, _splice.h) */
#define MODE_LISTEN 64 /* a plain listener's socket (plain_listen, _accept.h) */
#define MODE_H1 128     /* a client socket in the HTTP/1 exchange engine (_http1.h) */
#define MODE_H1_SRV 256 /* the server socket its current request went to */

struct H1Engine; /* _http1.h's H1 */
static void h1_free(struct H1Engine *h1);


typedef struct {
    int peer;       /* this socket's relay peer while `mode` is set; -1: not fast */
    int mode;       /* MODE_* bits */
    int dirty;      /* in the dirty list (counts not yet harvested) */
    uint64_t pkts;  /* chunks read since the last harvest */
    uint64_t bytes; /* bytes read since the last harvest */
    double last;    /* CLOCK_MONOTONIC seconds of the last chunk */
    /* A body in hand (set_body); kept while the socket is back with Python after a spill,
       until `resume` or `clear`. */
    int body;       /* MODE_LENGTH or MODE_CHUNKED; 0: none */
    uint64_t left;  /* MODE_LENGTH: bytes still to relay */
    uint64_t total; /* bytes read for this body so far */
    Chunks chunks;  /* MODE_CHUNKED: the reader's place */
    /* MODE_SPLICE (_splice.h) */
    char *pbuf;      /* bytes read from the peer that this socket has not taken yet */
    Py_ssize_t plen; /* ... how many */
    Py_ssize_t poff; /* ... from where in pbuf */
    Py_ssize_t pcap; /* pbuf's size */
    uint32_t emask;  /* its epoll mask (0: not in the set) */
    unsigned client : 1; /* the client's socket of the session */
    unsigned rd : 1;     /* read (not at EOF, its peer not full) */
    unsigned eof : 1;    /* its EOF was read */
    unsigned shut : 1;   /* shut it down for writing once pbuf is written */
    unsigned notify : 1; /* report the session's first EOF through `ended` */
    /* Plain streams and listeners (_accept.h) */
    int plain;    /* 1 + index of its Plain (a listener, or a plain stream's socket); 0: none */
    int srv;      /* a plain stream's client: its server's index */
    int lnext;    /* ... the live list of plain streams, through their clients */
    int lprev;
    double born;  /* ... when it started (CLOCK_MONOTONIC) */
    struct H1Engine *h1; /* MODE_H1: the engine's exchange (_http1.h) */
    int h1txn;           /* an HTTP listener's server connection: its transactions (_h1own.h) */
    /* Kernel splicing of MODE_LENGTH / MODE_DATA reads (_pipe.h) */
    unsigned spl : 2;    /* PIPE_OFF, PIPE_ON, PIPE_AUTO (set_splice; set and set_body reset) */
    unsigned full : 3;   /* PIPE_AUTO: full reads in a row */
    uint64_t sin;        /* bytes spliced in from this socket since `spliced` */
    uint64_t sout;       /* ... and spliced out of the pipe to its peer */
} Slot;

typedef struct Plain Plain; /* _accept.h */

typedef struct {
    PyObject_HEAD
    int epfd;
    int closed;
    int batch;
    int next;   /* index of the next event of the batch being handled */
    int nready; /* events in that batch (0 between rounds) */
    char *buf;
    Py_ssize_t size;
    Slot *slots;
    int nslots;
    int *dirty;
    int ndirty;
    int cdirty;
    PyObject *handlers; /* dict: descriptor -> callable(events) */
    PyObject *spill;    /* callable(fd, data: bytes | None, err: int) */
    PyObject *report;   /* callable(fd, exc): a handler raised */
    PyObject *ended;    /* callable(fd, how): the C path took fd's EOF (how: MODE_EOF_SHUT or _CLOSE) */
    PyObject *body;     /* callable(fd, kind, total, payload, data): a body hand-over ended */
    PyObject *done;     /* callable(cfd, sfd, how, c_pkts, c_bytes, s_pkts, s_bytes, last) */
    PyObject *hreq;     /* _http1.h's callbacks (h1_hooks) */
    PyObject *hdone;
    PyObject *hback;
    char *out;          /* what a chunked read writes (2 * size + 16 bytes) */
    int fatal;          /* a callback raised a BaseException that is not an Exception (still set) */
    /* Plain listeners (_accept.h) */
    Plain *plains;
    int nplains;
    int plive;          /* the first client of the live plain streams; -1: none */
    Py_ssize_t gavail;  /* plain streams all listeners may still start */
    PyObject *precs;    /* records not handed over yet (a list), or NULL */
    PyObject *plain_cb; /* callable(records) */
    /* Kernel splicing (_pipe.h) */
    int pipe[2];        /* the pump's pipe, when `havepipe` */
    int havepipe;
    int nopipe;         /* splicing is off for good (the kernel refused it) */
    int pipesize;       /* tune.pipesize (0: the kernel's default) */
    size_t pipecap;     /* the pipe's size as made (what one splice can move) */
    struct epoll_event events[MAX_EVENTS];
} Pump;

/* _accept.h's, for the type's slots below */
static void plain_free(Pump *self);
static void pipe_close(Pump *self); /* _pipe.h's */
static int plain_traverse(Pump *self, visitproc visit, void *arg);

static int grow_slots(Pump *self, int fd) {
    if (fd < self->nslots) {
        return 0;
    }
    int n = self->nslots ? self->nslots : 1024;
    while (n <= fd) {
        n *= 2;
    }
    Slot *slots = PyMem_Realloc(self->slots, (size_t)n * sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (int i = self->nslots; i < n; i++) {
        slots[i].peer = -1;
        slots[i].mode = 0;
        slots[i].dirty = 0;
        slots[i].pkts = 0;
        slots[i].bytes = 0;
        slots[i].last = 0.0;
        slots[i].body = 0;
        slots[i].left = 0;
        slots[i].total = 0;
        memset(&slots[i].chunks, 0, sizeof(Chunks));
        slots[i].pbuf = NULL;
        slots[i].plen = slots[i].poff = slots[i].pcap = 0;
        slots[i].emask = 0;
        slots[i].client = slots[i].rd = slots[i].eof = slots[i].shut = slots[i].notify = 0;
        slots[i].plain = slots[i].srv = 0;
        slots[i].lnext = slots[i].lprev = -1;
        slots[i].born = 0.0;
        slots[i].h1 = NULL;
        slots[i].h1txn = 0;
        slots[i].spl = slots[i].full = 0;
        slots[i].sin = slots[i].sout = 0;
    }
    self->slots = slots;
    self->nslots = n;
    return 0;
}

static int mark_dirty(Pump *self, int fd) {
    if (self->ndirty == self->cdirty) {
        int n = self->cdirty ? self->cdirty * 2 : 256;
        int *dirty = PyMem_Realloc(self->dirty, (size_t)n * sizeof(int));
        if (dirty == NULL) {
            return -1;
        }
        self->dirty = dirty;
        self->cdirty = n;
    }
    self->dirty[self->ndirty++] = fd;
    self->slots[fd].dirty = 1;
    return 0;
}

static void Pump_dealloc(Pump *self) {
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->handlers);
    Py_CLEAR(self->spill);
    Py_CLEAR(self->report);
    Py_CLEAR(self->ended);
    Py_CLEAR(self->body);
    Py_CLEAR(self->done);
    plain_free(self);
    Py_CLEAR(self->hreq);
    Py_CLEAR(self->hdone);
    Py_CLEAR(self->hback);
    PyMem_Free(self->buf);
    PyMem_Free(self->out);
    for (int i = 0; i < self->nslots; i++) {
        chunks_free(&self->slots[i].chunks);
        PyMem_Free(self->slots[i].pbuf);
        h1_free(self->slots[i].h1);
    }
    PyMem_Free(self->slots);
    PyMem_Free(self->dirty);
    pipe_close(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Pump_traverse(Pump *self, visitproc visit, void *arg) {
    Py_VISIT(self->handlers);
    Py_VISIT(self->spill);
    Py_VISIT(self->report);
    Py_VISIT(self->ended);
    Py_VISIT(self->body);
    Py_VISIT(self->done);
    Py_VISIT(self->hreq);
    Py_VISIT(self->hdone);
    Py_VISIT(self->hback);
    return plain_traverse(self, visit, arg);
}

static int Pump_clear_refs(Pump *self) {
    Py_CLEAR(self->handlers);
    Py_CLEAR(self->spill);
    Py_CLEAR(self->report);
    Py_CLEAR(self->ended);
    Py_CLEAR(self->body);
    Py_CLEAR(self->done);
    Py_CLEAR(self->plain_cb);
    Py_CLEAR(self->precs);
    Py_CLEAR(self->hreq);
    Py_CLEAR(self->hdone);
    Py_CLEAR(self->hback);
    return 0;
}

static int Pump_init(Pump *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"epfd", "size", "handlers", "spill", "report", "batch", "ended",
                             "body", "done", NULL};
    int epfd, batch = MAX_EVENTS;
    Py_ssize_t size;
    PyObject *handlers, *spill, *report, *ended = Py_None, *body = Py_None, *done = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "inO!OO|iOOO", kwlist, &epfd, &size,
                                     &PyDict_Type, &handlers, &spill, &report, &batch, &ended,
                                     &body, &done)) {
        return -1;
    }
    if ((ended != Py_None && !PyCallable_Check(ended)) ||
        (body != Py_None && !PyCallable_Check(body)) ||
        (done != Py_None && !PyCallable_Check(done))) {
        PyErr_SetString(PyExc_TypeError, "ended, body and done must be callable or None");
        return -1;
    }
    if (size <= 0 || batch <= 0) {
        PyErr_SetString(PyExc_ValueError, "size and batch must be positive");
        return -1;
    }
    if (!PyCallable_Check(spill) || !PyCallable_Check(report)) {
        PyErr_SetString(PyExc_TypeError, "spill and report must be callable");
        return -1;
    }
    if (size > (PY_SSIZE_T_MAX - 16) / 2) {
        PyErr_SetString(PyExc_ValueError, "size too large");
        return -1;
    }
    char *buf = PyMem_Malloc((size_t)size);
    char *out = PyMem_Malloc((size_t)size * 2 + 16);
    if (buf == NULL || out == NULL) {
        PyMem_Free(buf);
        PyMem_Free(out);
        PyErr_NoMemory();
        return -1;
    }
    PyMem_Free(self->buf);
    PyMem_Free(self->out);
    self->buf = buf;
    self->out = out;
    self->size = size;
    self->epfd = epfd;
    self->closed = 0;
    self->fatal = 0;
    self->plive = -1;
    self->batch = batch < MAX_EVENTS ? batch : MAX_EVENTS;
    Py_INCREF(handlers);
    Py_XSETREF(self->handlers, handlers);
    Py_INCREF(spill);
    Py_XSETREF(self->spill, spill);
    Py_INCREF(report);
    Py_XSETREF(self->report, report);
    if (ended == Py_None) {
        Py_CLEAR(self->ended);
    } else {
        Py_INCREF(ended);
        Py_XSETREF(self->ended, ended);
    }
    if (body == Py_None) {
        Py_CLEAR(self->body);
    } else {
        Py_INCREF(body);
        Py_XSETREF(self->body, body);
    }
    if (done == Py_None) {
        Py_CLEAR(self->done);
    } else {
        Py_INCREF(done);
        Py_XSETREF(self->done, done);
    }
    return 0;
}

static void account(Pump *self, int fd, Py_ssize_t n, double now) {
    Slot *slot = &self->slots[fd];
    slot->pkts += 1;
    slot->bytes += (uint64_t)n;
    slot->last = now;
    if (slot->plain) {
        return; /* a plain stream's counts go with its end (_accept.h) */
    }
    if (!slot->dirty && mark_dirty(self, fd) < 0) {
        /* Out of memory for the list: the counts stay in the slot and are collected by
           `clear` when the socket stops being fast. */
        slot->dirty = 0;
    }
}

/* A handler or spill callback raised: give the exception to `report` (which logs it) so one
   relay's bug does not stop the others, as the Python dispatch loop does.  What is not an
   Exception (SystemExit, KeyboardInterrupt, CancelledError) stays raised and ends the round
   (`fatal`), as it propagates out of poller.Poller._run. */
static void report_error(Pump *self, int fd) {
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        self->fatal = 1;
        return;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    PyObject *res = PyObject_CallFunction(self->report, "iO", fd, value ? value : Py_None);
    if (res == NULL) {
        PyErr_WriteUnraisable(self->report);
    }
    Py_XDECREF(res);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

static void call_spill(Pump *self, int fd, const char *data, Py_ssize_t len, int err) {
    PyObject *res;
    if (data == NULL) {
        res = PyObject_CallFunction(self->spill, "iOi", fd, Py_None, err);
    } else {
        res = PyObject_CallFunction(self->spill, "iy#i", fd, data, len, err);
    }
    if (res == NULL) {
        report_error(self, fd);
    }
    Py_XDECREF(res);
}

static void call_handler(Pump *self, int fd, uint32_t ev) {
    PyObject *key = PyLong_FromLong(fd);
    if (key == NULL) {
        report_error(self, fd);
        return;
    }
    PyObject *handler = PyDict_GetItemWithError(self->handlers, key);
    Py_DECREF(key);
    if (handler == NULL) {
        if (PyErr_Occurred()) {
            report_error(self, fd);
        }
        return; /* forgotten inside this batch: a stale event */
    }
    Py_INCREF(handler); /* the handler may remove itself from the dict */
    PyObject *arg = PyLong_FromUnsignedLong(ev);
    PyObject *res = arg ? PyObject_CallOneArg(handler, arg) : NULL;
    Py_XDECREF(arg);
    Py_DECREF(handler);
    if (res == NULL) {
        report_error(self, fd);
    }
    Py_XDECREF(res);
}

static double monotonic_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* send(2) as every relay path does it: the bytes the peer took (0 when it is full); `*err` the
   errno of a real failure, else 0. */
static ssize_t send_some(int fd, const char *data, size_t len, int *err) {
    ssize_t s = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    *err = 0;
    if (s < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            *err = errno;
        }
        s = 0;
    }
    return s;
}

/* The slot of `fd`, about to be handed to the C path with `peer` (None: an exception). */
static Slot *slot_for(Pump *self, int fd, int peer) {
    if (fd < 0 || peer < 0) {
        PyErr_SetString(PyExc_ValueError, "negative descriptor");
        return NULL;
    }
    if (grow_slots(self, fd) < 0) {
        return NULL;
    }
    return &self->slots[fd];
}

/* `fd` is being closed inside a batch: events for it later in the batch are stale (its number
   may be reused at once, by an accept in this same batch) and must not reach the new socket,
   where a stale EPOLLRDHUP would read as a FIN that never came.  They are dropped; a new
   socket's own events come in the next round (level-triggered). */
static void drop_pending(Pump *self, int fd) {
    for (int i = self->next; i < self->nready; i++) {
        if (self->events[i].data.fd == fd) {
            self->events[i].data.fd = -1;
        }
    }
}

static void call_ended(Pump *self, int fd, int how) {
    PyObject *res = PyObject_CallFunction(self->ended, "ii", fd, how);
    if (res == NULL) {
        report_error(self, fd);
    }
    Py_XDECREF(res);
}

/* `fd` sent EOF and its relay let the C path take it (MODE_EOF_*): do the system calls the
   Python relay's _eof would do, then tell it which way it went (`ended`), synchronously, so
   the relay's state is right before the next event of this batch.  Returns 0 when the mode
   does not cover it (the Python handler takes the EOF). */
static int take_eof(Pump *self, int fd) {
    Slot *slot = &self->slots[fd];
    int peer = slot->peer;
    int mode = slot->mode;
    if (!(mode & MODE_EOF) || self->ended == NULL) {
        return 0;
    }
    slot->peer = -1;
    slot->mode = 0;
    if (mode & MODE_EOF_CLOSE) {
        /* The peer sent its EOF before and got ours: both directions are over.  close(2)
           sends this side's FIN just as shutdown(2) would (tcp.TcpRelay._shutdown). */
        if (peer < self->nslots) {
            self->slots[peer].peer = -1;
            self->slots[peer].mode = 0;
        }
        drop_pending(self, fd);
        drop_pending(self, peer);
        close(fd);
        close(peer);
        call_ended(self, fd, MODE_EOF_CLOSE);
        return 1;
    }
    /* Half-close carried through: the peer gets our FIN once it has everything before it
       (nothing is queued towards it, or the mode would not be set); this socket has nothing
       more to read, so it is no longer watched for input (level-triggered EOF would repeat). */
    shutdown(peer, SHUT_WR); /* ENOTCONN after a reset: the peer's next event says so */
    struct epoll_event none = {.events = 0, .data = {.fd = fd}};
    epoll_ctl(self->epfd, EPOLL_CTL_MOD, fd, &none);
    call_ended(self, fd, MODE_EOF_SHUT);
    return 1;
}

/* Kernel splicing of bodies and tunnels (splice(2) through a pipe). */
#include "_pipe.h"
/* The body modes (MODE_LENGTH, MODE_CHUNKED): their event handling, on the helpers above. */
#include "_body.h"
static void plain_ended(Pump *self, int cfd, int how, unsigned long long cp,
                        unsigned long long cb, unsigned long long sp, unsigned long long sb);
/* Spliced sessions (MODE_SPLICE): the same. */
#include "_splice.h"
/* The balancer (roundrobin / static-rr picks in C over a pool's mirrored state). */
#include "_balance.h"
/* Plain listeners (MODE_LISTEN): streams accepted, balanced and spliced here. */
#include "_accept.h"
/* The HTTP/1 exchange engine (MODE_H1, MODE_H1_SRV). */
#include "_http1.h"
/* Its HTTP/1 listeners: connections the pump accepts and serves from their first request. */
#include "_h1conf.h"

#include "_h1own.h"

/* An event on a socket its relay handed to the C path.  Returns 1 when handled, 0 when the
   Python handler must take it (an error or hang-up, data the C path may not relay, an EOF it
   may not take). */
static int fast_event(Pump *self, int fd, uint32_t ev, double *now) {
    Slot *slot = &self->slots[fd];
    int mode = slot->mode;
    if (mode == MODE_LISTEN) {
        return listen_event(self, fd, ev, now);
    }
    if (mode == MODE_SPLICE) {
        return splice_event(self, fd, ev, now);
    }
    if (mode & MODE_BODY) {
        if (slot->spl == PIPE_ON && slot->body == MODE_LENGTH) {
            int h = pipe_body_event(self, fd, ev, now);
            if (h != PIPE_FALLBACK) {
                return h;
            }
        }
        return body_event(self, fd, ev, now);
    }
    if (mode & (MODE_H1 | MODE_H1_SRV)) {
        return h1_event(self, fd, ev);
    }
    if (mode & MODE_DATA) {
        /* Plain input only (EPOLLRDHUP: the FIN is in after the data); errors and hang-ups
           are the relay's to judge. */
        if ((ev & ~(uint32_t)EPOLLRDHUP) != EPOLLIN) {
            return 0;
        }
        if (slot->spl == PIPE_ON) {
            int h = pipe_data_event(self, fd, ev, now);
            if (h != PIPE_FALLBACK) {
                return h;
            }
        }
        int peer = slot->peer;
        ssize_t r = recv(fd, self->buf, (size_t)self->size, MSG_DONTWAIT);
        pipe_auto(slot, r, (size_t)self->size, self->size);
        if (r > 0) {
            if (*now == 0.0) {
                *now = monotonic_now();
            }
            account(self, fd, r, *now);
            int err;
            ssize_t s = send_some(peer, self->buf, (size_t)r, &err);
            if (s == r) {
                /* The FIN is in and this read took everything before it (a short read):
                   the next read would only return the EOF, so take it now, as _read does. */
                if ((ev & EPOLLRDHUP) && r < self->size) {
                    take_eof(self, fd); /* not taken: reported again, level-triggered */
                }
                return 1;
            }
            slot->peer = -1;
            slot->mode = 0;
            call_spill(self, fd, self->buf + s, r - s, err);
            return 1;
        }
        if (r < 0) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
                return 1;
            }
            slot->peer = -1;
            slot->mode = 0;
            call_spill(self, fd, NULL, 0, err);
            return 1;
        }
        /* r == 0: the peer's FIN.  recv keeps returning 0, so if the C path may not take it
           the Python handler reads it again and takes the EOF its own way. */
        return take_eof(self, fd);
    }
    if (mode & MODE_EOF) {
        /* Data here is the relay's to read (its state is not one where the C path copies
           data); only a bare EOF is taken.  Without EPOLLRDHUP the FIN has not come (relay
           sockets are watched for it), so this is data; with it, a one-byte peek tells a bare
           EOF from data before it, and leaves the data where it is.  EPOLLHUP is expected:
           we shut down writing to this socket already. */
        if ((ev & EPOLLERR) || !(ev & EPOLLIN) || !(ev & EPOLLRDHUP)) {
            return 0;
        }
        char probe;
        if (recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
            return take_eof(self, fd);
        }
    }
    return 0;
}

/* One round: the ready events without blocking, each handled in order. */
static PyObject *Pump_run(Pump *self, PyObject *Py_UNUSED(ignored)) {
    if (self->closed) {
        Py_RETURN_NONE;
    }
    int n = epoll_wait(self->epfd, self->events, self->batch, 0);
    if (n < 0) {
        if (errno == EINTR) {
            Py_RETURN_NONE;
        }
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    double now = 0.0;
    self->nready = n;
    for (int i = 0; i < n && !self->closed; i++) {
        self->next = i + 1;
        int fd = self->events[i].data.fd;
        uint32_t ev = self->events[i].events;
        if (fd < 0) {
            continue; /* closed earlier in this batch (drop_pending) */
        }
        if (fd < self->nslots && self->slots[fd].peer >= 0 && fast_event(self, fd, ev, &now)) {
            if (self->fatal) {
                break; /* from spill or ended */
            }
            continue;
        }
        call_handler(self, fd, ev);
        if (self->fatal) {
            break;
        }
    }
    self->nready = 0;
    self->next = 0;
    if (!self->fatal) {
        plain_deliver(self);
    }
    if (self->fatal) {
        self->fatal = 0;
        return NULL; /* the callback's exception is still set */
    }
    Py_RETURN_NONE;
}

static PyObject *Pump_set(Pump *self, PyObject *args) {
    int fd, peer, mode = MODE_DATA;
    if (!PyArg_ParseTuple(args, "ii|i", &fd, &peer, &mode)) {
        return NULL;
    }
    if (mode <= 0 || (mode & ~(MODE_DATA | MODE_EOF)) != 0) {
        PyErr_SetString(PyExc_ValueError, "mode must be a non-empty set of DATA, EOF_SHUT, EOF_CLOSE");
        return NULL;
    }
    if ((mode & MODE_EOF) && self->ended == NULL) {
        PyErr_SetString(PyExc_ValueError, "EOF modes need an `ended` callback");
        return NULL;
    }
    Slot *slot = slot_for(self, fd, peer);
    if (slot == NULL) {
        return NULL;
    }
    slot->peer = peer;
    slot->mode = mode;
    slot->body = 0;
    slot->spl = slot->full = 0;
    chunks_free(&slot->chunks);
    Py_RETURN_NONE;
}

/* set_body(fd, peer, mode, size, left=0): relay one message body from fd to peer, then hand
   fd back through `body`.  LENGTH: exactly `size` bytes.  CHUNKED: up to the end of the
   trailer block, which is cut at `size` bytes; `left` > 0: it starts inside a chunk's data,
   `left` bytes of it still to come (Python read the chunk's start, and wrote the size line
   of the rest to the peer). */
static PyObject *Pump_set_body(Pump *self, PyObject *args) {
    int fd, peer, mode;
    unsigned long long size, left = 0;
    if (!PyArg_ParseTuple(args, "iiiK|K", &fd, &peer, &mode, &size, &left)) {
        return NULL;
    }
    if (left && (mode != MODE_CHUNKED || left >= MAX_CHUNK)) {
        PyErr_SetString(PyExc_ValueError, "left is a chunk's rest, for CHUNKED only");
        return NULL;
    }
    if (mode != MODE_LENGTH && mode != MODE_CHUNKED) {
        PyErr_SetString(PyExc_ValueError, "mode must be LENGTH or CHUNKED");
        return NULL;
    }
    if (size == 0 || (mode == MODE_CHUNKED && size > (1ULL << 30))) {
        PyErr_SetString(PyExc_ValueError, "size must be positive (a trailer cap up to 1 GiB)");
        return NULL;
    }
    if (self->body == NULL) {
        PyErr_SetString(PyExc_ValueError, "body modes need a `body` callback");
        return NULL;
    }
    Slot *slot = slot_for(self, fd, peer);
    if (slot == NULL) {
        return NULL;
    }
    slot->peer = peer;
    slot->mode = mode;
    slot->body = mode;
    slot->spl = slot->full = 0;
    slot->total = 0;
    slot->left = mode == MODE_LENGTH ? size : 0;
    chunks_start(&slot->chunks, (Py_ssize_t)size);
    if (left) {
        slot->chunks.st = CS_DATA;
        slot->chunks.left = left;
    }
    Py_RETURN_NONE;
}

/* resume(fd, peer): go on with the body in hand after a spill. */
static PyObject *Pump_resume(Pump *self, PyObject *args) {
    int fd, peer;
    if (!PyArg_ParseTuple(args, "ii", &fd, &peer)) {
        return NULL;
    }
    if (fd < 0 || fd >= self->nslots || peer < 0 || self->slots[fd].body == 0) {
        PyErr_SetString(PyExc_ValueError, "no body in hand for this descriptor");
        return NULL;
    }
    self->slots[fd].peer = peer;
    self->slots[fd].mode = self->slots[fd].body;
    Py_RETURN_NONE;
}

/* set_splice(fd, how, pipesize=0): how the body or tunnel just handed over with `set` or
   `set_body` reads (_pipe.h: PIPE_OFF, PIPE_ON, PIPE_AUTO); `pipesize`: tune.pipesize,
   for the pipe made at the first splice. */
static PyObject *Pump_set_splice(Pump *self, PyObject *args) {
    int fd, how, pipesize = 0;
    if (!PyArg_ParseTuple(args, "ii|i", &fd, &how, &pipesize)) {
        return NULL;
    }
    if (how < PIPE_OFF || how > PIPE_AUTO) {
        PyErr_SetString(PyExc_ValueError, "how must be PIPE_OFF, PIPE_ON or PIPE_AUTO");
        return NULL;
    }
    if (fd < 0 || fd >= self->nslots || !(self->slots[fd].mode & (MODE_DATA | MODE_LENGTH))) {
        PyErr_SetString(PyExc_ValueError, "only a DATA or LENGTH relay splices");
        return NULL;
    }
    if (pipesize > 0 && !self->havepipe) {
        self->pipesize = pipesize;
    }
    self->slots[fd].spl = (unsigned)how & 3u;
    self->slots[fd].full = 0;
    Py_RETURN_NONE;
}

/* spliced(fd): (bytes spliced in from fd, bytes of them spliced out to its peer) since the
   last call; resets them. */
static PyObject *Pump_spliced(Pump *self, PyObject *arg) {
    long fd = PyLong_AsLong(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (fd < 0 || fd >= (long)self->nslots) {
        return Py_BuildValue("KK", 0ULL, 0ULL);
    }
    Slot *slot = &self->slots[fd];
    PyObject *res = Py_BuildValue("KK", (unsigned long long)slot->sin,
                                  (unsigned long long)slot->sout);
    if (res != NULL) {
        slot->sin = slot->sout = 0;
    }
    return res;
}

static PyObject *take(Slot *slot) {
    PyObject *res = Py_BuildValue("KKd", (unsigned long long)slot->pkts,
                                  (unsigned long long)slot->bytes, slot->last);
    if (res != NULL) {
        slot->pkts = 0;
        slot->bytes = 0;
    }
    return res;
}

/* Stop the fast path for `fd`; returns its uncollected (packets, bytes, last) or None. */
static PyObject *Pump_clear(Pump *self, PyObject *arg) {
    long fd = PyLong_AsLong(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (fd < 0 || fd >= (long)self->nslots) {
        Py_RETURN_NONE;
    }
    Slot *slot = &self->slots[fd];
    slot->peer = -1;
    slot->mode = 0;
    slot->body = 0;
    chunks_free(&slot->chunks);
    if (slot->pkts == 0) {
        Py_RETURN_NONE;
    }
    return take(slot); /* its dirty-list entry, if any, finds nothing at the next harvest */
}

/* [(fd, packets, bytes, last)] for every descriptor with uncollected counts; resets them. */
static PyObject *Pump_harvest(Pump *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *list = PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    /* The list first, the counts zeroed only once it is whole: a failure (no memory) leaves
       every count where it was, for the next harvest. */
    for (int i = 0; i < self->ndirty; i++) {
        int fd = self->dirty[i];
        Slot *slot = &self->slots[fd];
        if (slot->pkts == 0) {
            continue;
        }
        PyObject *item = Py_BuildValue("iKKd", fd, (unsigned long long)slot->pkts,
                                       (unsigned long long)slot->bytes, slot->last);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
    }
    for (int i = 0; i < self->ndirty; i++) {
        Slot *slot = &self->slots[self->dirty[i]];
        slot->dirty = 0;
        slot->pkts = 0;
        slot->bytes = 0;
    }
    self->ndirty = 0;
    return list;
}

/* drop(fd): `fd` is about to be closed; its events later in the current batch are dropped. */
static PyObject *Pump_drop(Pump *self, PyObject *arg) {
    long fd = PyLong_AsLong(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    drop_pending(self, (int)fd);
    if (fd >= 0 && fd < self->nslots && self->slots[fd].h1 != NULL) {
        h1_free(h1_detach(self, (int)fd)); /* closed under the engine: its number is free */
    }
    Py_RETURN_NONE;
}

/* Stop dispatching (the epoll descriptor is about to be closed by its owner). */
static PyObject *Pump_close(Pump *self, PyObject *Py_UNUSED(ignored)) {
    self->closed = 1;
    Py_RETURN_NONE;
}

static PyMethodDef Pump_methods[] = {
    {"run", (PyCFunction)Pump_run, METH_NOARGS, "Handle the events ready now (one batch)."},
    {"set", (PyCFunction)Pump_set, METH_VARARGS,
     "set(fd, peer, mode=DATA): what the C path does for fd's events (relay data to peer, "
     "take its EOF)."},
    {"set_body", (PyCFunction)Pump_set_body, METH_VARARGS,
     "set_body(fd, peer, mode, size, left=0): relay one body (LENGTH: size bytes; CHUNKED: "
     "trailer block cut at size, `left` bytes of a chunk's data first) from fd to peer, then "
     "hand fd back through `body`."},
    {"splice", (PyCFunction)Pump_splice, METH_VARARGS,
     "splice(cfd, sfd, notify=False): run the established session of these sockets in C "
     "(registered here) until both are closed; reported through `done`."},
    {"connect_splice", (PyCFunction)Pump_connect_splice, METH_VARARGS,
     "connect_splice(cfd, host, port, v6, notify) -> (sfd, err): connect a server socket "
     "and, when it is connected at once, splice it with cfd (err 0); EINPROGRESS: sfd is "
     "connecting; else the errno of the failure (sfd still open; -2: no socket made)."},
    {"kill", (PyCFunction)Pump_kill, METH_VARARGS,
     "kill(cfd, reset) -> (client pkts, bytes, server pkts, bytes, last): end a spliced "
     "session now."},
    {"resume", (PyCFunction)Pump_resume, METH_VARARGS,
     "resume(fd, peer): go on with the body in hand after a spill."},
    {"set_splice", (PyCFunction)Pump_set_splice, METH_VARARGS,
     "set_splice(fd, how, pipesize=0): splice(2) fd's DATA or LENGTH reads (PIPE_ON), or "
     "once it streams fast (PIPE_AUTO)."},
    {"spliced", (PyCFunction)Pump_spliced, METH_O,
     "spliced(fd): (bytes spliced in from fd, bytes spliced out to its peer); resets them."},
    {"clear", (PyCFunction)Pump_clear, METH_O,
     "clear(fd): stop the fast path; (packets, bytes, last) not yet collected, or None."},
    {"harvest", (PyCFunction)Pump_harvest, METH_NOARGS,
     "[(fd, packets, bytes, last)] counted since the last harvest."},
    {"drop", (PyCFunction)Pump_drop, METH_O,
     "drop(fd): fd is about to be closed; drop its events later in the current batch."},
    {"close", (PyCFunction)Pump_close, METH_NOARGS, "Stop dispatching."},
    {"plain_callback", (PyCFunction)Pump_plain_callback, METH_O,
     "plain_callback(cb): cb(records) after each round with plain records (_accept.h)."},
    {"plain_listen", (PyCFunction)Pump_plain_listen, METH_VARARGS,
     "plain_listen(lfd, key, balancer, servers, idle, fin_idle): accept on lfd in C."},
    {"plain_stop", (PyCFunction)Pump_plain_stop, METH_VARARGS,
     "plain_stop(key): accept no more on that listener (its streams run on)."},
    {"plain_room", (PyCFunction)Pump_plain_room, METH_VARARGS,
     "plain_room(key, avail, gavail): streams C may start before Python counts again."},
    {"plain_servers", (PyCFunction)Pump_plain_servers, METH_VARARGS,
     "plain_servers(key, servers): the servers' addresses again (the pool changed)."},
    {"plain_take", (PyCFunction)Pump_plain_take, METH_NOARGS,
     "plain_take() -> the records not handed over yet, or None."},
    {"plain_kill", (PyCFunction)Pump_plain_kill, METH_VARARGS,
     "plain_kill(key, server) -> how many plain streams were ended (-1: any)."},
    {"plain_end", (PyCFunction)Pump_plain_end, METH_VARARGS,
     "plain_end(cfd) -> whether the plain stream of cfd was ended."},
    {"plain_sweep", (PyCFunction)Pump_plain_sweep, METH_NOARGS,
     "plain_sweep() -> plain streams left after ending the idle ones."},
    {"plain_list", (PyCFunction)Pump_plain_list, METH_VARARGS,
     "plain_list(key) -> [(cfd, sfd, server, age)] of the live plain streams."},
    {"h1_hooks", (PyCFunction)Pump_h1_hooks, METH_VARARGS,
     "h1_hooks(hreq, hdone, hback): the HTTP/1 exchange engine's callbacks."},
    {"h1_start", (PyCFunction)Pump_h1_start, METH_VARARGS,
     "h1_start(cfd, mask): the engine reads cfd's next requests (mask: its epoll mask)."},
    {"h1_listen", (PyCFunction)Pump_h1_listen, METH_VARARGS,
     "h1_listen(key, t_first, t_ka, t_server, t_client, purge_delay[, log, adds]): an HTTP "
     "listener."},
    {"h1_list", (PyCFunction)Pump_h1_list, METH_VARARGS,
     "h1_list(key) -> [(cfd, sfd, server, since)]: the HTTP listener's exchanges in flight."},
    {"h1_idle", (PyCFunction)Pump_h1_idle, METH_VARARGS,
     "h1_idle(key, server) -> the idle connections the HTTP listener keeps to the server."},
    {"h1_hand", (PyCFunction)Pump_h1_hand, METH_VARARGS,
     "h1_hand(cfd) -> bool: hand a connection of an HTTP listener to Python now."},
    {"h1_take", (PyCFunction)Pump_h1_take, METH_VARARGS,
     "h1_take(key, server) -> sfd | -1: an idle connection of the HTTP listener's pool."},
    {"h1_conns", (PyCFunction)Pump_h1_conns, METH_VARARGS,
     "h1_conns(key) -> (opened, closed): an HTTP listener's server connections so far."},
    {"h1_release", (PyCFunction)Pump_h1_release, METH_VARARGS,
     "h1_release(key) -> n: hand the HTTP listener's connections to Python."},
    {"h1_stop", (PyCFunction)Pump_h1_stop, METH_O,
     "h1_stop(cfd) -> (sfd, request, response) | None: take cfd back from the engine."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PumpType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pylvs.dataplane.proxy._pump.Pump",
    .tp_basicsize = sizeof(Pump),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "epoll dispatch with an established-relay fast path",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Pump_init,
    .tp_dealloc = (destructor)Pump_dealloc,
    .tp_traverse = (traverseproc)Pump_traverse,
    .tp_clear = (inquiry)Pump_clear_refs,
    .tp_methods = Pump_methods,
};

static struct PyModuleDef pump_module = {
    PyModuleDef_HEAD_INIT, "pylvs.dataplane.proxy._pump",
    "The proxy's epoll dispatch with an established-relay fast path.", -1, NULL,
};

PyMODINIT_FUNC PyInit__pump(void) {
    if (PyType_Ready(&PumpType) < 0 || PyType_Ready(&DechunkerType) < 0 ||
        PyType_Ready(&BalancerType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&pump_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "DATA", MODE_DATA) < 0 ||
        PyModule_AddIntConstant(m, "EOF_SHUT", MODE_EOF_SHUT) < 0 ||
        PyModule_AddIntConstant(m, "EOF_CLOSE", MODE_EOF_CLOSE) < 0 ||
        PyModule_AddIntConstant(m, "LENGTH", MODE_LENGTH) < 0 ||
        PyModule_AddIntConstant(m, "CHUNKED", MODE_CHUNKED) < 0 ||
        PyModule_AddIntConstant(m, "BODY_SENT", BODY_SENT) < 0 ||
        PyModule_AddIntConstant(m, "BODY_LAST", BODY_LAST) < 0 ||
        PyModule_AddIntConstant(m, "BODY_REFUSED", BODY_REFUSED) < 0 ||
        PyModule_AddIntConstant(m, "BODY_CUT", BODY_CUT) < 0 ||
        PyModule_AddIntConstant(m, "SPLICE_CLOSED", SPLICE_CLOSED) < 0 ||
        PyModule_AddIntConstant(m, "SPLICE_CLIENT_FAILED", SPLICE_CLIENT_FAILED) < 0 ||
        PyModule_AddIntConstant(m, "SPLICE_SERVER_FAILED", SPLICE_SERVER_FAILED) < 0 ||
        PyModule_AddIntConstant(m, "ROUNDROBIN", BAL_ROUNDROBIN) < 0 ||
        PyModule_AddIntConstant(m, "STATIC_RR", BAL_STATIC_RR) < 0 ||
        PyModule_AddIntConstant(m, "LEASTCONN", BAL_LEASTCONN) < 0 ||
        PyModule_AddIntConstant(m, "FIRST", BAL_FIRST) < 0 ||
        PyModule_AddIntConstant(m, "PLAIN_STARTED", PLAIN_STARTED) < 0 ||
        PyModule_AddIntConstant(m, "PLAIN_ENDED", PLAIN_ENDED) < 0 ||
        PyModule_AddIntConstant(m, "PLAIN_HANDED", PLAIN_HANDED) < 0 ||
        PyModule_AddIntConstant(m, "PLAIN_KILLED", PLAIN_KILLED) < 0 ||
        PyModule_AddIntConstant(m, "PLAIN_EXPIRED", PLAIN_EXPIRED) < 0 ||
        PyModule_AddIntConstant(m, "PIPE_OFF", PIPE_OFF) < 0 ||
        PyModule_AddIntConstant(m, "PIPE_ON", PIPE_ON) < 0 ||
        PyModule_AddIntConstant(m, "PIPE_AUTO", PIPE_AUTO) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&PumpType);
    if (PyModule_AddObject(m, "Pump", (PyObject *)&PumpType) < 0) {
        Py_DECREF(&PumpType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&DechunkerType);
    if (PyModule_AddObject(m, "Dechunker", (PyObject *)&DechunkerType) < 0) {
        Py_DECREF(&DechunkerType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&BalancerType);
    if (PyModule_AddObject(m, "Balancer", (PyObject *)&BalancerType) < 0) {
        Py_DECREF(&BalancerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
