/*
 * _pump.c's spliced sessions (MODE_SPLICE): the whole established life of a plain layer-4
 * stream in C, from the moment both sockets are connected to the close of both.
 *
 * Why: per new connection the HAProxy mode spent ~50 us of user time in Python (HAProxy: ~6)
 * against ~35 us in the kernel; of that Python, the relay's commands and callbacks between
 * connect and close (two registrations, two hand-overs, two EOF callbacks and their table
 * events, the close) were a third.  A spliced session registers its two sockets itself and
 * runs the rules of pylvs.proto.relay's machine for the case without decisions: data both
 * ways; what a peer cannot take is kept here (one buffer per direction) and written on
 * EPOLLOUT, the source read on until SPLICE_HIGH bytes wait and again once no more than
 * SPLICE_LOW do (the relay's high- and low-water marks, RelayParams' defaults: backpressure
 * in batches, as the Python relay's queue does it); an EOF is passed on once what precedes
 * it is written (shutdown(SHUT_WR)); both EOFs passed on: both sockets closed; a client that
 * fails (a read or write error) is closed and the server reset (SO_LINGER 0), as the machine
 * does; a server that fails leaves the client what can still be written to it now and a FIN,
 * as HAProxy does (haproxy 2.6.12 closes the client's side cleanly after a server's reset,
 * where IPVS, and the machine, pass the reset on).  Python hears of it once, at the end (`done`), with the counts not yet harvested;
 * harvest collects the running counts meanwhile, as for MODE_DATA.  Python ends one early
 * with `kill` (an idle timeout, shutdown sessions, a stop), and may ask to hear of the first
 * EOF (`notify`: its half-closed timeout differs).
 *
 * Included by _pump.c after its helpers: one compilation unit.
 */
#ifndef PYLVS_SPLICE_H
#define PYLVS_SPLICE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define SPLICE_HIGH (256 * 1024) /* bytes waiting for a socket: stop reading its peer */
#define SPLICE_LOW (64 * 1024)   /* ... read it again */

/* How a spliced session ended (the `done` callback's `how`). */
#define SPLICE_CLOSED 0 /* both EOFs passed on, both sockets closed */
#define SPLICE_CLIENT_FAILED 1 /* the client's socket failed (reset): the server was reset */
#define SPLICE_SERVER_FAILED 2 /* the server's socket failed: the client was reset */

/* The epoll mask the session's state asks for on `fd`: its input while it is read, EPOLLOUT
   while something waits for it.  A socket watched for nothing is taken out of the set, or
   its hang-up would be reported at every round (level-triggered). */
static void sp_mask(Pump *self, int fd) {
    Slot *s = &self->slots[fd];
    uint32_t m = (s->rd ? (EPOLLIN | EPOLLRDHUP) : 0) | (s->plen ? EPOLLOUT : 0);
    if (m == s->emask) {
        return;
    }
    struct epoll_event e = {.events = m, .data = {.fd = fd}};
    if (m == 0) {
        epoll_ctl(self->epfd, EPOLL_CTL_DEL, fd, &e);
    } else {
        epoll_ctl(self->epfd, s->emask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e);
    }
    s->emask = m;
}

static void sp_forget(Slot *s) {
    PyMem_Free(s->pbuf);
    s->pbuf = NULL;
    s->plen = s->poff = s->pcap = 0;
    s->peer = -1;
    s->mode = 0;
    s->rd = s->eof = s->shut = s->notify = 0;
    s->emask = 0;
}

/* A spliced pair leaves the pump (its counts taken by the caller first): both slots
   forgotten, their events later in the batch dropped; the sockets are the caller's to close. */
static void sp_detach(Pump *self, int cfd, int sfd) {
    Slot *c = &self->slots[cfd], *s = &self->slots[sfd];
    c->pkts = c->bytes = s->pkts = s->bytes = 0;
    sp_forget(c);
    sp_forget(s);
    c->client = s->client = 0;
    drop_pending(self, cfd);
    drop_pending(self, sfd);
}

static void reset_close(int fd) {
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/* Close both sockets (`failed`: this one failed, the other is reset) and tell Python. */
static void sp_end(Pump *self, int fd, int failed) {
    Slot *a = &self->slots[fd];
    int peer = a->peer;
    Slot *b = &self->slots[peer];
    int cfd = a->client ? fd : peer, sfd = a->client ? peer : fd;
    Slot *c = &self->slots[cfd], *s = &self->slots[sfd];
    unsigned long long cp = c->pkts, cb = c->bytes, spk = s->pkts, sb = s->bytes;
    double last = c->last > s->last ? c->last : s->last;
    c->pkts = c->bytes = s->pkts = s->bytes = 0; /* a dirty-list entry finds nothing */
    if (failed && fd == sfd && c->plen) {
        /* What the client can take now of what waits for it, once, without blocking (what
           it cannot take is lost with the session, as the buffer is). */
        int err;
        (void)send_some(cfd, c->pbuf + c->poff, (size_t)c->plen, &err);
    }
    sp_forget(a);
    sp_forget(b);
    a->client = b->client = 0;
    drop_pending(self, fd);
    drop_pending(self, peer);
    int how = SPLICE_CLOSED;
    if (failed && fd == cfd) {
        how = SPLICE_CLIENT_FAILED;
        close(fd);
        reset_close(peer);
    } else if (failed) {
        how = SPLICE_SERVER_FAILED;
        close(fd);
        close(peer); /* after the flush below: the client's FIN follows what it was sent */
    } else {
        close(fd);
        close(peer);
    }
    if (self->slots[cfd].plain) { /* a plain stream (_accept.h): a record, no call */
        self->slots[sfd].plain = 0;
        plain_ended(self, cfd, how, cp, cb, spk, sb);
        return;
    }
    PyObject *res = PyObject_CallFunction(self->done, "iiiKKKKd", cfd, sfd, how, cp, cb, spk,
                                          sb, last);
    if (res == NULL) {
        report_error(self, cfd);
    }
    Py_XDECREF(res);
}

/* Both directions over (each EOF read and passed on, nothing left to write)? */
static int sp_over(Slot *a, Slot *b) {
    return a->eof && b->eof && a->plen == 0 && b->plen == 0;
}

/* `fd` sent its EOF: pass it on to the peer once what waits for the peer is written. */
static void sp_eof(Pump *self, int fd) {
    Slot *a = &self->slots[fd];
    int peer = a->peer;
    Slot *b = &self->slots[peer];
    a->rd = 0;
    a->eof = 1;
    if (sp_over(a, b)) {
        sp_end(self, fd, 0); /* close(2) sends the FINs */
        return;
    }
    if (b->plen) {
        b->shut = 1;
    } else {
        shutdown(peer, SHUT_WR); /* ENOTCONN after a reset: its next event says so */
    }
    sp_mask(self, fd);
    if (a->notify && self->ended != NULL) {
        a->notify = b->notify = 0; /* the first EOF only */
        call_ended(self, fd, MODE_SPLICE);
    }
}

/* Keep `n` bytes for `fd` behind what already waits for it; -1: no memory. */
static int sp_hold(Slot *a, const char *data, Py_ssize_t n) {
    if (a->poff + a->plen + n > a->pcap) {
        if (a->poff) {
            memmove(a->pbuf, a->pbuf + a->poff, (size_t)a->plen);
            a->poff = 0;
        }
        if (a->plen + n > a->pcap) {
            Py_ssize_t cap = a->pcap * 2 > a->plen + n ? a->pcap * 2 : a->plen + n;
            char *buf = PyMem_Realloc(a->pbuf, (size_t)cap);
            if (buf == NULL) {
                return -1;
            }
            a->pbuf = buf;
            a->pcap = cap;
        }
    }
    memcpy(a->pbuf + a->poff + a->plen, data, (size_t)n);
    a->plen += n;
    return 0;
}

/* Write what waits for `fd`; 0 when the session ended. */
static int sp_flush(Pump *self, int fd) {
    Slot *a = &self->slots[fd];
    int peer = a->peer;
    Slot *b = &self->slots[peer];
    int err;
    ssize_t s = send_some(fd, a->pbuf + a->poff, (size_t)a->plen, &err);
    if (err) {
        sp_end(self, fd, 1);
        return 0;
    }
    a->poff += s;
    a->plen -= s;
    if (a->plen == 0) {
        PyMem_Free(a->pbuf); /* an idle stream holds no buffer */
        a->pbuf = NULL;
        a->poff = a->pcap = 0;
        if (sp_over(a, b)) {
            sp_end(self, fd, 0);
            return 0;
        }
        if (a->shut) {
            a->shut = 0;
            shutdown(fd, SHUT_WR);
        }
    }
    if (!b->eof && !b->rd && a->plen <= SPLICE_LOW) {
        b->rd = 1; /* the backpressure is over */
    }
    sp_mask(self, fd);
    sp_mask(self, peer);
    return 1;
}

/* Read a chunk from `fd` and send it to its peer; what the peer does not take waits. */
static void sp_read(Pump *self, int fd, uint32_t ev, double *now) {
    Slot *a = &self->slots[fd];
    int peer = a->peer;
    Slot *b = &self->slots[peer];
    ssize_t r = recv(fd, self->buf, (size_t)self->size, MSG_DONTWAIT);
    if (r == 0) {
        sp_eof(self, fd);
        return;
    }
    if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            sp_end(self, fd, 1);
        }
        return;
    }
    if (*now == 0.0) {
        *now = monotonic_now();
    }
    account(self, fd, r, *now);
    ssize_t s = 0;
    if (b->plen == 0) { /* nothing waits for the peer: straight on */
        int err;
        s = send_some(peer, self->buf, (size_t)r, &err);
        if (err) {
            sp_end(self, peer, 1);
            return;
        }
    }
    if (s < r) {
        if (sp_hold(b, self->buf + s, r - s) < 0) {
            sp_end(self, fd, 1); /* no memory to hold it: this stream only */
            return;
        }
        if (b->plen >= SPLICE_HIGH) {
            a->rd = 0;
        }
        sp_mask(self, fd);
        sp_mask(self, peer);
        return;
    }
    /* The FIN is in and this read took everything before it: take it now (MODE_DATA does). */
    if ((ev & EPOLLRDHUP) && !(ev & EPOLLERR) && r < self->size) {
        sp_eof(self, fd);
    }
}

static int splice_event(Pump *self, int fd, uint32_t ev, double *now) {
    Slot *a = &self->slots[fd];
    if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && a->plen) {
        if (!sp_flush(self, fd)) {
            return 1;
        }
    }
    if (a->rd && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        sp_read(self, fd, ev, now);
    } else if ((ev & EPOLLERR) && a->mode) {
        sp_end(self, fd, 1);
    }
    return 1;
}

/* Register the connected sockets `cfd` and `sfd` as a spliced session; -1 with errno set
   (neither registered) when epoll refuses one. */
static int splice_pair(Pump *self, int cfd, int sfd, int notify) {
    int fds[2] = {cfd, sfd};
    for (int i = 0; i < 2; i++) {
        Slot *s = &self->slots[fds[i]];
        s->peer = fds[1 - i];
        s->mode = MODE_SPLICE;
        s->body = 0;
        chunks_free(&s->chunks);
        s->client = i == 0;
        s->rd = 1;
        s->eof = s->shut = 0;
        s->notify = notify;
        s->emask = 0;
        struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data = {.fd = fds[i]}};
        if (epoll_ctl(self->epfd, EPOLL_CTL_ADD, fds[i], &e) < 0) {
            int err = errno;
            if (i == 1) {
                epoll_ctl(self->epfd, EPOLL_CTL_DEL, cfd, &e);
            }
            sp_forget(&self->slots[cfd]);
            sp_forget(&self->slots[sfd]);
            self->slots[cfd].client = self->slots[sfd].client = 0;
            errno = err;
            return -1;
        }
        s->emask = EPOLLIN | EPOLLRDHUP;
    }
    return 0;
}

static int splice_ready(Pump *self, int cfd, int sfd) {
    if (cfd < 0 || sfd < 0 || cfd == sfd) {
        PyErr_SetString(PyExc_ValueError, "two distinct descriptors");
        return -1;
    }
    if (self->done == NULL) {
        PyErr_SetString(PyExc_ValueError, "spliced sessions need a `done` callback");
        return -1;
    }
    return grow_slots(self, cfd > sfd ? cfd : sfd);
}

/* splice(cfd, sfd, notify=False): run the session of these two connected sockets here. */
static PyObject *Pump_splice(Pump *self, PyObject *args) {
    int cfd, sfd, notify = 0;
    if (!PyArg_ParseTuple(args, "ii|p", &cfd, &sfd, &notify)) {
        return NULL;
    }
    if (splice_ready(self, cfd, sfd) < 0) {
        return NULL;
    }
    if (splice_pair(self, cfd, sfd, notify) < 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

/* connect_splice(cfd, host, port, v6, notify) -> (sfd, err): the first connect of a plain
   stream and, when the server answers inside connect(2) (loopback does: the handshake runs in
   the caller's context), its splice, in one call.  What HaSession._attempt and _splice do
   with Python's socket wrappers (socket, setsockopt TCP_NODELAY, connect, getpeername to
   tell ESTABLISHED from SYN_SENT, splice), at the cost of one call.  err 0: connected and
   spliced (as `splice`); EINPROGRESS: `sfd` is connecting (the caller watches it); any other
   errno: the attempt failed (refused inside connect(2) on loopback included), `sfd` left open
   for the caller to close; sfd -2: no socket could be made (out of descriptors or memory, not
   a failed attempt). */
static PyObject *Pump_connect_splice(Pump *self, PyObject *args) {
    int cfd, port, v6, notify;
    const char *host;
    if (!PyArg_ParseTuple(args, "isipp", &cfd, &host, &port, &v6, &notify)) {
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    if (port < 0 || port > 65535) {
        PyErr_SetString(PyExc_ValueError, "port out of range");
        return NULL;
    }
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        len = sizeof(*a);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
            PyErr_SetString(PyExc_ValueError, "not an IPv6 address");
            return NULL;
        }
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        len = sizeof(*a);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
            PyErr_SetString(PyExc_ValueError, "not an IPv4 address");
            return NULL;
        }
    }
    int sfd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sfd < 0) {
        return Py_BuildValue("ii", -2, errno); /* no socket at all: no attempt was made */
    }
    int one = 1, err = 0;
    if (setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
        connect(sfd, (struct sockaddr *)&ss, len) < 0) {
        err = errno;
    }
    if (err == EINPROGRESS) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        if (getpeername(sfd, (struct sockaddr *)&peer, &plen) == 0) {
            err = 0; /* the handshake ran inside connect(2): ESTABLISHED */
        } else {
            /* Refused inside connect(2) too (loopback's RST): the error is known now. */
            int soerr = 0;
            socklen_t elen = sizeof(soerr);
            if (getsockopt(sfd, SOL_SOCKET, SO_ERROR, &soerr, &elen) == 0 && soerr) {
                err = soerr;
            }
        }
    }
    if (err) { /* under way, or failed: the caller's socket either way */
        return Py_BuildValue("ii", sfd, err);
    }
    if (splice_ready(self, cfd, sfd) < 0) {
        close(sfd);
        return NULL;
    }
    if (splice_pair(self, cfd, sfd, notify) < 0) {
        err = errno;
        close(sfd);
        errno = err;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return Py_BuildValue("ii", sfd, 0);
}

/* kill(cfd, reset) -> (client packets, bytes, server packets, bytes, last): end a spliced
   session now (both sockets closed, with a reset when told); nothing is reported. */
static PyObject *Pump_kill(Pump *self, PyObject *args) {
    int cfd, reset;
    if (!PyArg_ParseTuple(args, "ip", &cfd, &reset)) {
        return NULL;
    }
    if (cfd < 0 || cfd >= self->nslots || self->slots[cfd].mode != MODE_SPLICE) {
        PyErr_SetString(PyExc_ValueError, "not a spliced session");
        return NULL;
    }
    Slot *c = &self->slots[cfd];
    int sfd = c->peer;
    Slot *s = &self->slots[sfd];
    PyObject *res = Py_BuildValue("KKKKd", (unsigned long long)c->pkts,
                                  (unsigned long long)c->bytes, (unsigned long long)s->pkts,
                                  (unsigned long long)s->bytes,
                                  c->last > s->last ? c->last : s->last);
    if (res == NULL) {
        return NULL;
    }
    sp_detach(self, cfd, sfd);
    if (reset) {
        reset_close(cfd);
        reset_close(sfd);
    } else {
        close(cfd);
        close(sfd);
    }
    return res;
}

#endif
