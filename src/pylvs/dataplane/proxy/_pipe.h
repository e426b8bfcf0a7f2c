/*
 * _pump.c's kernel splicing: an HTTP/1 body or tunnel moved from one socket to its peer with
 * splice(2) through a pipe, without copying it through user space, as HAProxy 2.6 does with
 * `option splice-request` / `splice-response` / `splice-auto` (src/raw_sock.c
 * raw_sock_to_pipe / raw_sock_from_pipe, src/mux_h1.c h1_rcv_pipe / h1_snd_pipe).
 *
 * Which bytes may go this way is Python's decision (http/passing.py, proto/http/splicing.py):
 * `set_splice(fd, how)` after `set` or `set_body` (both reset it), for the body modes HAProxy
 * splices: a content-length body (MODE_LENGTH) and a close-delimited response or a tunnel
 * (MODE_DATA); never a chunked one (the H1 mux parses its chunks).  PIPE_ON splices every
 * read; PIPE_AUTO reads with recv(2) until three reads in a row filled the buffer (the
 * channel's CF_STREAMER_FAST, src/stconn.c), then splices.
 *
 * One pipe serves the whole pump, and it is empty between events: each read is spliced into
 * it and at once out to the peer; what the peer does not take is read back into the pump's
 * buffer and handed to Python through `spill` like any other unsent rest (so the bytes stay
 * in order, and a held pipe never has to count as buffered data for backpressure or
 * timeouts).  HAProxy's `maxpipes` caps the streams that splice at once (Python counts
 * them); `tune.pipesize` sizes the pipe.  A kernel that refuses splice (EINVAL, ENOSYS) or a
 * pipe that cannot be made turns splicing off for the pump: reads go back to recv/send.
 *
 * Per source socket `sin` counts the bytes spliced in from it and `sout` those spliced out of
 * the pipe to its peer (show stat's h1_spliced_bytes_in/out); `spliced(fd)` takes them.
 */
#ifndef PYLVS_PIPE_H
#define PYLVS_PIPE_H

#include <fcntl.h>

#define PIPE_OFF 0
#define PIPE_ON 1
#define PIPE_AUTO 2
#define STREAMER_FAST 3 /* full reads in a row that make a stream a fast streamer */
#define PIPE_FALLBACK (-2)

static void body_over(Pump *self, int fd, int kind); /* _body.h's, included next */
static void body_failed(Pump *self, int fd, const char *data, Py_ssize_t len, int err);

/* The pump's pipe, made at its first use; 0, or -1 when splicing is off for good. */
static int pipe_ready(Pump *self) {
    if (self->havepipe) {
        return 0;
    }
    if (self->nopipe) {
        return -1;
    }
    if (pipe2(self->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        self->nopipe = 1;
        return -1;
    }
    self->havepipe = 1;
    if (self->pipesize > 0) {
        (void)fcntl(self->pipe[1], F_SETPIPE_SZ, self->pipesize); /* as HAProxy: a hint */
    }
    int cap = fcntl(self->pipe[1], F_GETPIPE_SZ);
    self->pipecap = cap > 0 ? (size_t)cap : 65536;
    return 0;
}

static void pipe_close(Pump *self) {
    if (self->havepipe) {
        close(self->pipe[0]);
        close(self->pipe[1]);
    }
    self->havepipe = 0;
}

/* PIPE_AUTO's judgement after a plain read of `r` bytes out of `want`. */
static void pipe_auto(Slot *slot, ssize_t r, size_t want, Py_ssize_t size) {
    if (slot->spl != PIPE_AUTO) {
        return;
    }
    if (r > 0 && (size_t)r == want && (Py_ssize_t)want == size) {
        if (++slot->full >= STREAMER_FAST) {
            slot->spl = PIPE_ON;
        }
    } else {
        slot->full = 0;
    }
}

/* Move up to `*want` bytes from `fd` to `peer` through the pipe (`*want` lowered to what
   one move can take: the pipe's and the buffer's size).  Returns the bytes read from fd
   (> 0; `*sent` of them went to the peer, the rest is in self->buf from its start, `*err`
   the errno of a failed write), 0 at fd's EOF, -1 with errno set when the read failed
   (EAGAIN included), or PIPE_FALLBACK when splicing cannot be used (nothing was read). */
static ssize_t pipe_move(Pump *self, Slot *slot, int fd, int peer, size_t *want_io,
                         ssize_t *sent, int *err) {
    *sent = 0;
    *err = 0;
    if (pipe_ready(self) < 0) {
        return PIPE_FALLBACK;
    }
    size_t want = *want_io;
    if (want > (size_t)self->size) {
        want = (size_t)self->size; /* what does not go out must fit in the buffer */
    }
    if (want > self->pipecap) {
        want = self->pipecap;
    }
    *want_io = want;
    ssize_t r = splice(fd, NULL, self->pipe[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (r < 0) {
        if (errno == EINVAL || errno == ENOSYS) {
            self->nopipe = 1; /* this kernel or socket kind will not: copy from now on */
            pipe_close(self);
            return PIPE_FALLBACK;
        }
        return -1;
    }
    if (r == 0) {
        return 0;
    }
    slot->sin += (uint64_t)r;
    while (*sent < r) {
        ssize_t s = splice(self->pipe[0], NULL, peer, NULL, (size_t)(r - *sent),
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (s <= 0) {
            if (s < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                *err = errno;
            }
            if (s < 0 && errno == EINTR) {
                continue;
            }
            break;
        }
        *sent += s;
    }
    slot->sout += (uint64_t)*sent;
    /* Drain what the peer did not take, so the pipe is empty for the next move. */
    ssize_t got = 0, rest = r - *sent;
    while (got < rest) {
        ssize_t n = read(self->pipe[0], self->buf + got, (size_t)(rest - got));
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            /* Cannot be (the bytes are in the pipe): never reuse a pipe in that state. */
            pipe_close(self);
            self->nopipe = 1;
            *err = EIO;
            return r;
        }
        got += n;
    }
    return r;
}

/* MODE_DATA through the pipe (a close-delimited response, a tunnel): fast_event's plain
   relay with splice instead of recv and send.  Returns as fast_event does, or PIPE_FALLBACK
   (the caller relays with recv/send). */
static int pipe_data_event(Pump *self, int fd, uint32_t ev, double *now) {
    Slot *slot = &self->slots[fd];
    int peer = slot->peer, err;
    ssize_t sent;
    size_t want = (size_t)self->size;
    ssize_t r = pipe_move(self, slot, fd, peer, &want, &sent, &err);
    if (r == PIPE_FALLBACK) {
        return PIPE_FALLBACK;
    }
    if (r > 0) {
        if (*now == 0.0) {
            *now = monotonic_now();
        }
        account(self, fd, r, *now);
        if (sent == r && !err) {
            if ((ev & EPOLLRDHUP) && (size_t)r < want) {
                take_eof(self, fd); /* the FIN is next: as the recv path takes it */
            }
            return 1;
        }
        slot->peer = -1;
        slot->mode = 0;
        call_spill(self, fd, self->buf, r - sent, err);
        return 1;
    }
    if (r < 0) {
        int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) {
            return 1;
        }
        slot->peer = -1;
        slot->mode = 0;
        call_spill(self, fd, NULL, 0, e);
        return 1;
    }
    return take_eof(self, fd);
}

/* MODE_LENGTH through the pipe: body_event's read and send, never past the body's end. */
static int pipe_body_event(Pump *self, int fd, uint32_t ev, double *now) {
    if (!(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        return 0;
    }
    Slot *slot = &self->slots[fd];
    int peer = slot->peer, err;
    size_t want = (size_t)self->size;
    if (slot->left < want) {
        want = (size_t)slot->left;
    }
    ssize_t sent;
    ssize_t r = pipe_move(self, slot, fd, peer, &want, &sent, &err);
    if (r == PIPE_FALLBACK) {
        return PIPE_FALLBACK;
    }
    if (r < 0) {
        int e = errno;
        if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR) {
            body_failed(self, fd, NULL, 0, e);
        }
    } else if (r == 0) {
        body_over(self, fd, BODY_CUT);
    } else {
        slot->left -= (uint64_t)r;
        slot->total += (uint64_t)r;
        if (*now == 0.0) {
            *now = monotonic_now();
        }
        account(self, fd, r, *now);
        int kind = slot->left ? 0 : BODY_SENT;
        if (err) {
            body_failed(self, fd, self->buf, r - sent, err);
        } else {
            if (sent != r) {
                /* The peer is full: the rest waits in Python (the body stays in hand). */
                slot->peer = -1;
                slot->mode = 0;
                call_spill(self, fd, self->buf, r - sent, 0);
                if (self->fatal) {
                    return 1;
                }
            }
            if (kind) {
                body_over(self, fd, kind);
            }
        }
    }
    if ((ev & EPOLLOUT) && !self->fatal) {
        call_handler(self, fd, EPOLLOUT);
    }
    return 1;
}

#endif
