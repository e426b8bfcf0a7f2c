/*
 * _pump.c's body modes: one HTTP message body relayed from a socket to its peer in C, then
 * the socket handed back to Python (docs/http.md, "The fast path for bodies and tunnels").
 *
 * MODE_LENGTH relays exactly the budget and never reads past it (recv(min(left, size))), so
 * a pipelined next message stays in the socket.  MODE_CHUNKED reads the chunked coding
 * (_chunked.h) and passes each chunk on re-framed, up to the last chunk's trailer block,
 * which goes back to Python raw; it reads no further than the message either (a read that
 * could reach past its end peeks first).  A peer that takes only part of what was read hands
 * the socket back through `spill` with the rest, the body staying in hand (`resume`).
 *
 * Included by _pump.c after its helpers (account, call_spill, call_handler, report_error):
 * one compilation unit, split to keep each file readable.
 */
#ifndef PYLVS_BODY_H
#define PYLVS_BODY_H

/* A chunked read smaller than this peeks first (MSG_PEEK) and then takes only the bytes of
   the message: a read that might reach past its end must not take the next message. */
#define PEEK_BELOW 1024

/* The body hand-over ends: the socket goes back to Python, which hears how (`body`). */
static void body_over(Pump *self, int fd, int kind) {
    Slot *slot = &self->slots[fd];
    Chunks *c = &slot->chunks;
    int chunked = slot->body == MODE_CHUNKED;
    uint64_t count = chunked ? c->payload : slot->total;
    if (kind == BODY_REFUSED) {
        count = c->bad;
    }
    PyObject *trailers = NULL;
    if (kind == BODY_LAST) {
        trailers = PyBytes_FromStringAndSize(c->tbuf ? c->tbuf : "", c->tlen);
    } else {
        trailers = Py_None;
        Py_INCREF(trailers);
    }
    slot->peer = -1;
    slot->mode = 0;
    slot->body = 0;
    chunks_free(c);
    PyObject *res = NULL;
    if (trailers != NULL) {
        res = PyObject_CallFunction(self->body, "iiKKO", fd, kind, (unsigned long long)slot->total,
                                    (unsigned long long)count, trailers);
        Py_DECREF(trailers);
    }
    if (res == NULL) {
        report_error(self, fd);
    }
    Py_XDECREF(res);
}

/* A read or a send of a body failed (errno `err`): the socket goes back to Python through
   `spill`, as in MODE_DATA; the body is over. */
static void body_failed(Pump *self, int fd, const char *data, Py_ssize_t len, int err) {
    Slot *slot = &self->slots[fd];
    slot->peer = -1;
    slot->mode = 0;
    slot->body = 0;
    chunks_free(&slot->chunks);
    call_spill(self, fd, data, len, err);
}

/* Read the next bytes of the body, never past its end.  LENGTH: recv(min(left, size)).
   CHUNKED: a read that cannot reach the end is a plain one; a shorter one peeks, reads
   the message's bytes in what it saw, and takes only those off the socket. */
static ssize_t body_recv(Pump *self, Slot *slot, int fd, int *peeked) {
    size_t want = (size_t)self->size;
    int flags = MSG_DONTWAIT;
    *peeked = 0;
    if (slot->body == MODE_LENGTH) {
        if (slot->left < want) {
            want = (size_t)slot->left;
        }
    } else {
        uint64_t safe = chunks_safe(&slot->chunks);
        if (safe < PEEK_BELOW) {
            *peeked = 1;
            flags |= MSG_PEEK;
        } else if (safe < want) {
            want = (size_t)safe;
        }
    }
    ssize_t r = recv(fd, self->buf, want, flags);
    if (slot->body == MODE_LENGTH) {
        pipe_auto(slot, r, want, self->size); /* _pipe.h: PIPE_AUTO's count of full reads */
    }
    return r;
}

/* An event on a socket in a body mode (set_body).  Its read side is the C path's, whatever
   the event says (an error or a hang-up comes out of recv); EPOLLOUT goes to the Python
   handler, which may be writing the other direction on the same socket. */
static int body_event(Pump *self, int fd, uint32_t ev, double *now) {
    if (!(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        return 0;
    }
    Slot *slot = &self->slots[fd];
    Chunks *c = &slot->chunks;
    int peer = slot->peer, peeked;
    ssize_t r = body_recv(self, slot, fd, &peeked);
    if (r < 0) {
        int err = errno;
        if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
            body_failed(self, fd, NULL, 0, err);
        }
        goto out;
    }
    if (r == 0) {
        body_over(self, fd, BODY_CUT);
        goto out;
    }
    const char *data = self->buf;
    Py_ssize_t len = r, used = r;
    int kind = 0;
    if (slot->body == MODE_LENGTH) {
        slot->left -= (uint64_t)r;
        kind = slot->left ? 0 : BODY_SENT;
    } else if (c->st == CS_DATA && (uint64_t)r <= c->left) {
        /* Chunk data only: it goes on as it came (chunks_read's step, without its copy). */
        c->left -= (uint64_t)r;
        c->payload += (uint64_t)r;
        c->off += (uint64_t)r;
        if (c->left == 0) {
            c->st = CS_CRLF;
        }
    } else {
        used = chunks_read(c, self->buf, r, self->out, &len);
        if (used < 0) {
            body_failed(self, fd, NULL, 0, ENOMEM);
            goto out;
        }
        data = self->out;
        kind = c->st == CS_DONE ? BODY_LAST : c->st == CS_BAD ? BODY_REFUSED : 0;
    }
    if (peeked && used > 0 && recv(fd, self->buf, (size_t)used, MSG_DONTWAIT) != used) {
        body_failed(self, fd, NULL, 0, EIO); /* the bytes peeked at went away: cannot be */
        goto out;
    }
    if (used > 0) {
        slot->total += (uint64_t)used;
        if (*now == 0.0) {
            *now = monotonic_now();
        }
        account(self, fd, used, *now);
    }
    int err = 0;
    ssize_t s = len ? send_some(peer, data, (size_t)len, &err) : 0;
    if (s != len) {
        if (err) {
            body_failed(self, fd, data + s, len - s, err);
            goto out;
        }
        /* The peer is full: the rest waits in Python until it drains; the body stays in
           hand (`resume` goes on with it) unless it just ended. */
        slot->peer = -1;
        slot->mode = 0;
        call_spill(self, fd, data + s, len - s, 0);
        if (self->fatal) {
            return 1;
        }
    }
    if (kind) {
        body_over(self, fd, kind);
    }
out:
    if ((ev & EPOLLOUT) && !self->fatal) {
        call_handler(self, fd, EPOLLOUT);
    }
    return 1;
}

#endif
