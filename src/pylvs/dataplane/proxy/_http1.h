/*
 * _pump.c's HTTP/1 exchange engine: the common request of a kept-alive `mode http` client
 * connection, from its head to the end of its response, without entering the HTTP driver's
 * machines (issue 21 point 6; docs/http.md "The exchange engine").
 *
 * Python hands a client socket over (`h1_start`) between two exchanges, when its session
 * has nothing in flight and its proxies nothing the engine cannot do (engine.py says which).
 * Then, per request:
 *
 * 1. the client's bytes are read and the head lexed by picohttpparser (vendor/); it must be
 *    plainly valid and plain (judged below, conservatively: anything else is HAProxy's
 *    parser's to judge), complete, bodyless and alone in what was read;
 * 2. `hreq(cfd)` (Python) picks the server and hands over one of its idle connections
 *    (its descriptor), or -1;
 * 3. the head is written to the server as HAProxy's H1 multiplexer writes it (src/h1_htx.c:
 *    the start line as parsed with the version "HTTP/1.1", each field `name: value` with the
 *    name in lower case and the value without its surrounding blanks, in order);
 * 4. the response is read whole (head and a Content-Length body, or none for HEAD, 204 and
 *    304) up to RESP_MAX bytes, its head lexed and judged likewise, rewritten the same way
 *    and written to the client with its body in one sendmsg;
 * 5. `hdone(cfd, status, request bytes, response bytes written, bytes read from the server,
 *    request bytes written to it, what the client did not take)` (Python) ends the exchange: its counters and the server
 *    connection's return to the pool.
 *
 * Whatever is not plain hands the exchange back (`hback(cfd, sfd, request, response,
 * unsent)`) with every byte read, before any decision was made on it: sfd -1 (nothing sent
 * yet) means Python reads the request as if it had just come; sfd >= 0 means the request
 * went to that server connection, and Python replays it through its machines without
 * writing it again (unsent: the part of the head the server's socket did not take), then
 * reads the response bytes given.  So HAProxy's answers (400s, 502s, `show errors`) stay the
 * Python path's.  The client's descriptor is out of the engine before any callback runs.
 */
#ifndef PYLVS_HTTP1_H
#define PYLVS_HTTP1_H

#include <strings.h>
#include <sys/uio.h>

#include "vendor/picohttpparser.h"

#define H1_IDLE 0 /* waiting for the next request */
#define H1_RESP 1 /* the request went to `sfd`: waiting for its response */
#define REQ_MAX 8192    /* a head not whole within this goes to Python (tune.bufsize is 16k) */
#define RESP_MAX 65536  /* a response not whole within this goes to Python (its body in C) */
#define H1_FIELDS 100   /* fields per head (HAProxy's tune.http.maxhdr is 101) */

typedef struct H1Engine {
    int state;
    int sfd;
    uint32_t mask;   /* the client's epoll mask as Python left it */
    int muted;       /* the client's events are off while its response is awaited */
    char *req;       /* the request's bytes as read */
    size_t rlen;
    char *resp;      /* the response's bytes as read */
    size_t plen;
    int head;        /* the request was a HEAD (its response has no body) */
    char *add;       /* fields appended to every request (forwardfor, originalto) */
    size_t alen;
    size_t swrote;   /* the request head's bytes written to the server (show stat's h1 module) */
    /* A connection the pump accepted itself (_h1own.h): no Python session behind it. */
    int own;
    int plain;       /* 1 + index of its listener's Plain */
    int pick;        /* the current request's server index (-1: none picked) */
    int srv;         /* the server index of `sfd` while it is kept between requests */
    int close;       /* the request said `Connection: close` */
    int served;      /* exchanges served */
    double born, last, sent; /* accepted, last exchange's end, request written */
    char *rest;      /* H1_FLUSH: the response's bytes the client has not taken */
    size_t rest_len, rest_off;
    int hnext, hprev; /* the listener's live connections, by client descriptor */
    int gen;          /* the listener's server indexes' generation at the pick */
    /* An own connection of a listener that logs (_h1own.h): the exchange's facts. */
    int log;
    double t_req, t_conn, t_connd, t_resp; /* read, connecting, connected, response head */
    size_t hin, hout; /* the request's and the response's HTX sizes (%U, %B) */
    int reused;       /* the request went on an idle server connection (not connected) */
    size_t phead;     /* the response's head length in `resp` */
    char src[48], dst[48]; /* the client's and the listener's addresses, as text */
    int sport, dport;
} H1;

static int h1own_pick(Pump *self, int cfd, H1 *h1);
static void h1own_back(Pump *self, int cfd, H1 *h1, const char *unsent, Py_ssize_t ulen,
                       int expired);
static int h1own_sent(Pump *self, int cfd, H1 *h1, int status, struct iovec *iov,
                      size_t total, size_t sent);
static int h1own_event(Pump *self, int cfd, H1 *h1, uint32_t ev);
static int h1pool_event(Pump *self, int sfd);
static void h1own_close(Pump *self, int cfd, H1 *h1);

/* Fields whose presence makes a message not plain: they change framing or the connection
   (HAProxy rewrites or acts on them: connection, keep-alive, proxy-connection, upgrade,
   te, transfer-encoding, expect) or need a check the engine does not make. */
static int h1_special(const char *name, size_t len) {
    static const char *const special[] = {
        "connection", "keep-alive", "proxy-connection", "upgrade", "te",
        "transfer-encoding", "expect", "trailer", NULL,
    };
    for (int i = 0; special[i] != NULL; i++) {
        if (strlen(special[i]) == len && strncasecmp(name, special[i], len) == 0) {
            return 1;
        }
    }
    return 0;
}

static int h1_is(const struct phr_header *h, const char *name) {
    size_t n = strlen(name);
    return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

/* `Connection: keep-alive` alone: on HTTP/1.1 it only restates the default; HAProxy takes
   the token out (a flag of the message) and drops the field left empty (h1_parse_connection_
   header, then h1_process_mux writes nothing for a kept-alive HTTP/1.1 message).  Any other
   Connection value is not plain. */
static int h1_token(const struct phr_header *h, const char *token) {
    const char *v = h->value;
    size_t n = h->value_len, k = strlen(token);
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    return n == k && strncasecmp(v, token, k) == 0;
}

static int h1_keep_alive(const struct phr_header *h) {
    return h1_token(h, "keep-alive");
}

/* A field the head keeps (else it is dropped on the way out): all but the above. */
static int h1_kept(const struct phr_header *h) {
    return !h1_is(h, "connection");
}

/* Write `name: value\r\n` with the name in lower case; returns the end. */
static char *h1_field(char *o, const struct phr_header *h) {
    for (size_t i = 0; i < h->name_len; i++) {
        char c = h->name[i];
        *o++ = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    *o++ = ':';
    *o++ = ' ';
    /* picohttpparser drops the value's trailing blanks and leading spaces; a leading tab
       stays: HAProxy drops it too (http_trim_leading_spht) */
    const char *v = h->value;
    size_t vl = h->value_len;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    memcpy(o, v, vl);
    o += vl;
    *o++ = '\r';
    *o++ = '\n';
    return o;
}

/* A request head picohttpparser took whole: is it plain?  Origin-form target of HAProxy's
   bytes (%x21-7E but '#', src/h1.c), HTTP/1.1, no body, at most one Host, no special
   field, a method other than CONNECT. */
static int h1_plain_request(const char *method, size_t mlen, const char *path, size_t plen,
                            int minor, const struct phr_header *h, size_t n, int *close) {
    if (minor != 1 || plen == 0 || path[0] != '/') {
        return 0;
    }
    if (mlen == 7 && memcmp(method, "CONNECT", 7) == 0) {
        return 0;
    }
    for (size_t i = 0; i < plen; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x21 || c > 0x7e || c == '#') {
            return 0;
        }
    }
    int hosts = 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i].name == NULL || h[i].name_len == 0) {
            return 0; /* a folded line */
        }
        if (h1_is(&h[i], "connection") && h1_keep_alive(&h[i])) {
            continue;
        }
        if (close != NULL && h1_is(&h[i], "connection") && h1_token(&h[i], "close")) {
            *close = 1; /* an own connection's last request (_h1own.h) */
            continue;
        }
        if (h1_special(h[i].name, h[i].name_len) || h1_is(&h[i], "content-length")) {
            return 0;
        }
        if (h1_is(&h[i], "host") && ++hosts > 1) {
            return 0;
        }
    }
    return 1;
}

/* The response's body length by its head, or -1 when it is not plain: HTTP/1.1, a final
   status, one Content-Length of digits (none for a bodyless response: HEAD, 204, 304; a
   204 must not carry one, HAProxy drops it), no special field. */
static long long h1_plain_response(int minor, int status, int head,
                                   const struct phr_header *h, size_t n) {
    if (minor != 1 || status < 200 || status > 599) {
        return -1;
    }
    long long clen = -1;
    for (size_t i = 0; i < n; i++) {
        if (h[i].name != NULL && h1_is(&h[i], "connection") && h1_keep_alive(&h[i])) {
            continue;
        }
        if (h[i].name == NULL || h[i].name_len == 0 || h1_special(h[i].name, h[i].name_len)) {
            return -1;
        }
        if (h1_is(&h[i], "content-length")) {
            if (clen >= 0 || h[i].value_len == 0 || h[i].value_len > 15) {
                return -1;
            }
            clen = 0;
            for (size_t k = 0; k < h[i].value_len; k++) {
                char c = h[i].value[k];
                if (c < '0' || c > '9') {
                    return -1;
                }
                clen = clen * 10 + (c - '0');
            }
        }
    }
    if (status == 204) {
        return clen >= 0 ? -1 : 0;
    }
    if (head || status == 304) {
        return 0;
    }
    return clen;
}

/* A head's HTX data as HAProxy's logs count it (proto/http/htxsize.py): the start line's
   struct and parts (`line` bytes), each kept field's name and value (what was written of
   them less ": " and CRLF), the end of headers, then the body's payload. */
static size_t h1_htx(size_t line, size_t written, size_t kept, size_t body) {
    return 20 + line + written - 4 * kept + 1 + body;
}

static void h1_free(H1 *h1) {
    if (h1 != NULL) {
        PyMem_Free(h1->add);
        PyMem_Free(h1->req);
        PyMem_Free(h1->resp);
        PyMem_Free(h1->rest);
        PyMem_Free(h1);
    }
}

/* Take `cfd` (and its server socket, if any) out of the engine; the H1 is the caller's. */
static H1 *h1_detach(Pump *self, int cfd) {
    Slot *slot = &self->slots[cfd];
    H1 *h1 = slot->h1;
    slot->h1 = NULL;
    slot->peer = -1;
    slot->mode = 0;
    if (h1 == NULL) {
        return NULL;
    }
    if (h1->state == H1_RESP && h1->sfd >= 0 && h1->sfd < self->nslots) {
        self->slots[h1->sfd].peer = -1;
        self->slots[h1->sfd].mode = 0;
    }
    if (h1->muted) {
        struct epoll_event e = {.events = h1->mask, .data = {.fd = cfd}};
        epoll_ctl(self->epfd, EPOLL_CTL_MOD, cfd, &e);
        h1->muted = 0;
    }
    return h1;
}

/* Hand the exchange back to Python with what was read (see the header comment). */
static void h1_back(Pump *self, int cfd, const char *unsent, Py_ssize_t ulen) {
    if (self->slots[cfd].h1 != NULL && self->slots[cfd].h1->own) {
        h1own_back(self, cfd, self->slots[cfd].h1, unsent, ulen, 0);
        return;
    }
    H1 *h1 = h1_detach(self, cfd);
    if (h1 == NULL) {
        return;
    }
    int sfd = h1->state == H1_RESP ? h1->sfd : -1;
    PyObject *res = NULL;
    PyObject *req = PyBytes_FromStringAndSize(h1->req ? h1->req : "", (Py_ssize_t)h1->rlen);
    PyObject *resp = sfd >= 0 && h1->plen
                         ? PyBytes_FromStringAndSize(h1->resp, (Py_ssize_t)h1->plen)
                         : Py_NewRef(Py_None);
    PyObject *rest = ulen > 0 ? PyBytes_FromStringAndSize(unsent, ulen) : Py_NewRef(Py_None);
    h1_free(h1);
    if (req != NULL && resp != NULL && rest != NULL) {
        res = PyObject_CallFunction(self->hback, "iiOOO", cfd, sfd, req, resp, rest);
    }
    Py_XDECREF(req);
    Py_XDECREF(resp);
    Py_XDECREF(rest);
    if (res == NULL) {
        report_error(self, cfd);
    }
    Py_XDECREF(res);
}

/* The client's socket: the next request (state IDLE). */
static int h1_request(Pump *self, int cfd, H1 *h1, uint32_t ev) {
    if (h1->own && h1own_event(self, cfd, h1, ev)) {
        return 1;
    }
    if (h1->state == H1_RESP) {
        if (ev & (EPOLLERR | EPOLLHUP)) {
            h1_back(self, cfd, NULL, 0); /* the client failed: Python's to tell */
            return 0;
        }
        /* more from the client before the response: left in the socket for later */
        struct epoll_event none = {.events = 0, .data = {.fd = cfd}};
        epoll_ctl(self->epfd, EPOLL_CTL_MOD, cfd, &none);
        h1->muted = 1;
        return 1;
    }
    if (h1->req == NULL && (h1->req = PyMem_Malloc(REQ_MAX)) == NULL) {
        h1_back(self, cfd, NULL, 0);
        return 0;
    }
    if (h1->log && h1->rlen == 0) {
        h1->t_req = monotonic_now(); /* the request's first byte (HAProxy's Ti ends) */
    }
    ssize_t r = recv(cfd, h1->req + h1->rlen, REQ_MAX - h1->rlen, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return 1;
    }
    if (r <= 0) {
        if (h1->own && h1->rlen == 0) {
            h1own_close(self, cfd, h1); /* between requests: HAProxy closes silently too */
            return 1;
        }
        h1_back(self, cfd, NULL, 0); /* an EOF or an error: the handler reads it again */
        return !!h1->own;
    }
    h1->rlen += (size_t)r;
    const char *method, *path;
    size_t mlen, plen, n = H1_FIELDS;
    int minor;
    struct phr_header h[H1_FIELDS];
    int got = phr_parse_request(h1->req, h1->rlen, &method, &mlen, &path, &plen, &minor, h, &n, 0);
    if (got == -2 && h1->rlen < REQ_MAX && !h1->own) {
        return 1; /* (an own connection's head in pieces: the machines wait for the rest) */
    }
    if (got < 0 || (size_t)got != h1->rlen || path != method + mlen + 1 ||
        memcmp(path + plen, " HTTP/1.1\r\n", 11) != 0 ||
        !h1_plain_request(method, mlen, path, plen, minor, h, n, h1->own ? &h1->close : NULL)) {
        h1_back(self, cfd, NULL, 0);
        return 1;
    }
    /* the head as HAProxy writes it (the output can only be shorter, but for bare LFs) */
    char *o = self->out;
    memcpy(o, method, mlen);
    o += mlen;
    *o++ = ' ';
    memcpy(o, path, plen);
    o += plen;
    memcpy(o, " HTTP/1.1\r\n", 11);
    o += 11;
    char *fields = o;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (h1_kept(&h[i])) {
            o = h1_field(o, &h[i]);
            kept++;
        }
    }
    h1->hin = h1_htx(mlen + plen + 8, (size_t)(o - fields), kept, 0);
    if (h1->alen) {
        memcpy(o, h1->add, h1->alen);
        o += h1->alen;
    }
    *o++ = '\r';
    *o++ = '\n';
    h1->head = mlen == 4 && memcmp(method, "HEAD", 4) == 0;
    long sfd;
    if (h1->own) {
        sfd = h1own_pick(self, cfd, h1);
    } else {
        PyObject *res = PyObject_CallFunction(self->hreq, "i", cfd);
        sfd = res != NULL ? PyLong_AsLong(res) : -1;
        Py_XDECREF(res);
        if (PyErr_Occurred()) {
            report_error(self, cfd);
            if (self->fatal) {
                return 1; /* SystemExit and the like end the round, still raised */
            }
            sfd = -1;
        }
    }
    if (sfd >= 0 && grow_slots(self, (int)sfd) < 0) {
        PyErr_Clear(); /* no memory for the slot: the machines take the request */
        sfd = -1;
    }
    if (sfd < 0 || (self->slots[sfd].peer >= 0 && self->slots[sfd].peer != cfd)) {
        h1_back(self, cfd, NULL, 0);
        return 1;
    }
    h1->state = H1_RESP;
    h1->sfd = (int)sfd;
    h1->plen = 0;
    self->slots[sfd].peer = cfd;
    self->slots[sfd].mode = MODE_H1_SRV;
    if (h1->own) {
        h1->sent = monotonic_now();
    }
    Py_ssize_t len = o - self->out;
    h1->swrote = (size_t)len;
    int err;
    ssize_t s = send_some((int)sfd, self->out, (size_t)len, &err);
    if (s != len) {
        h1_back(self, cfd, self->out + s, len - s);
    }
    return 1;
}

/* The server's socket: the response, whole, to the client. */
static int h1_response(Pump *self, int sfd, uint32_t ev) {
    if (!(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        return 0;
    }
    int cfd = self->slots[sfd].peer;
    if (cfd == sfd) {
        return h1pool_event(self, sfd); /* an idle connection of an HTTP listener spoke */
    }
    H1 *h1 = self->slots[cfd].h1;
    if (h1->resp == NULL && (h1->resp = PyMem_Malloc(RESP_MAX)) == NULL) {
        h1_back(self, cfd, NULL, 0);
        return 0;
    }
    ssize_t r = recv(sfd, h1->resp + h1->plen, RESP_MAX - h1->plen, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return 1;
    }
    if (r <= 0) {
        h1_back(self, cfd, NULL, 0); /* the server's EOF or error: Python's handler reads it */
        return 0;
    }
    h1->plen += (size_t)r;
    int minor, status;
    const char *msg;
    size_t msglen, n = H1_FIELDS;
    struct phr_header h[H1_FIELDS];
    int got = phr_parse_response(h1->resp, h1->plen, &minor, &status, &msg, &msglen, h, &n, 0);
    if (got == -2 && h1->plen < RESP_MAX) {
        return 1;
    }
    /* the status line exactly "HTTP/1.1 NNN reason" (the lexer is laxer on blanks) */
    int line = got > 0 && memcmp(h1->resp, "HTTP/1.1 ", 9) == 0 && msglen > 0 &&
               msg == h1->resp + 13 && h1->resp[12] == ' ';
    /* a head past REQ_MAX may be past HAProxy's room for it (tune.bufsize less the rewrite
       room): Python measures it */
    long long body = line && got <= REQ_MAX ? h1_plain_response(minor, status, h1->head, h, n) : -1;
    if (body < 0 || (size_t)got + (size_t)body > RESP_MAX) {
        h1_back(self, cfd, NULL, 0);
        return 1;
    }
    if (h1->log && h1->t_resp == 0.0) {
        h1->t_resp = monotonic_now(); /* the response head came (HAProxy's Tr ends) */
    }
    size_t whole = (size_t)got + (size_t)body;
    if (h1->plen < whole) {
        return 1; /* the rest of the body is coming */
    }
    if (h1->plen > whole) {
        h1_back(self, cfd, NULL, 0); /* bytes after the response: Python kills the connection */
        return 1;
    }
    char *o = self->out;
    o += sprintf(o, "HTTP/1.1 %03d ", status);
    memcpy(o, msg, msglen);
    o += msglen;
    *o++ = '\r';
    *o++ = '\n';
    char *fields = o;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (h1_kept(&h[i])) {
            o = h1_field(o, &h[i]);
            kept++;
        }
    }
    h1->hout = h1_htx(8 + 3 + msglen, (size_t)(o - fields), kept, (size_t)body);
    h1->phead = (size_t)got;
    if (h1->close) { /* the client's last request: HAProxy says so (h1_process_mux) */
        memcpy(o, "connection: close\r\n", 19);
        o += 19;
    }
    *o++ = '\r';
    *o++ = '\n';
    struct iovec iov[2] = {{self->out, (size_t)(o - self->out)}, {h1->resp + got, (size_t)body}};
    size_t total = iov[0].iov_len + iov[1].iov_len;
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = body ? 2 : 1};
    ssize_t s = sendmsg(cfd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (s < 0) {
        s = 0;
    }
    if (h1->own) {
        return h1own_sent(self, cfd, h1, status, iov, total, (size_t)s);
    }
    /* What the client did not take goes to Python with the exchange's end. */
    PyObject *rest = Py_None;
    Py_INCREF(rest);
    if ((size_t)s < total) {
        Py_DECREF(rest);
        rest = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(total - (size_t)s));
        if (rest != NULL) {
            char *p = PyBytes_AS_STRING(rest);
            size_t k = (size_t)s;
            for (int i = 0; i < 2; i++) {
                if (k < iov[i].iov_len) {
                    memcpy(p, (char *)iov[i].iov_base + k, iov[i].iov_len - k);
                    p += iov[i].iov_len - k;
                    k = 0;
                } else {
                    k -= iov[i].iov_len;
                }
            }
        }
    }
    size_t nin = h1->rlen, nsrv = h1->plen;
    h1->state = H1_IDLE;
    h1->rlen = h1->plen = 0;
    /* an idle connection holds no buffer (HAProxy releases its buffers between requests) */
    PyMem_Free(h1->req);
    PyMem_Free(h1->resp);
    h1->req = h1->resp = NULL;
    self->slots[sfd].peer = -1;
    self->slots[sfd].mode = 0;
    if (h1->muted) {
        struct epoll_event e = {.events = h1->mask, .data = {.fd = cfd}};
        epoll_ctl(self->epfd, EPOLL_CTL_MOD, cfd, &e);
        h1->muted = 0;
    }
    PyObject *res = NULL;
    if (rest != NULL) {
        res = PyObject_CallFunction(self->hdone, "iinnnnO", cfd, status, (Py_ssize_t)nin,
                                    (Py_ssize_t)total, (Py_ssize_t)nsrv,
                                    (Py_ssize_t)h1->swrote, rest);
        Py_DECREF(rest);
    }
    if (res == NULL) {
        report_error(self, cfd);
    }
    Py_XDECREF(res);
    return 1;
}

static int h1_event(Pump *self, int fd, uint32_t ev) {
    Slot *slot = &self->slots[fd];
    if (slot->mode == MODE_H1_SRV) {
        return h1_response(self, fd, ev);
    }
    return h1_request(self, fd, slot->h1, ev);
}

/* h1_hooks(hreq, hdone, hback): the engine's callbacks (see the header comment). */
static PyObject *Pump_h1_hooks(Pump *self, PyObject *args) {
    PyObject *hreq, *hdone, *hback;
    if (!PyArg_ParseTuple(args, "OOO", &hreq, &hdone, &hback)) {
        return NULL;
    }
    if (!PyCallable_Check(hreq) || !PyCallable_Check(hdone) || !PyCallable_Check(hback)) {
        PyErr_SetString(PyExc_TypeError, "the engine's hooks must be callable");
        return NULL;
    }
    Py_XSETREF(self->hreq, Py_NewRef(hreq));
    Py_XSETREF(self->hdone, Py_NewRef(hdone));
    Py_XSETREF(self->hback, Py_NewRef(hback));
    Py_RETURN_NONE;
}

/* h1_start(cfd, mask, add=b""): the engine reads cfd's next requests; `mask` is its epoll
   mask, `add` the fields appended to each request head (`name: value\r\n` lines). */
static PyObject *Pump_h1_start(Pump *self, PyObject *args) {
    int cfd;
    unsigned int mask;
    const char *add = "";
    Py_ssize_t alen = 0;
    if (!PyArg_ParseTuple(args, "iI|y#", &cfd, &mask, &add, &alen)) {
        return NULL;
    }
    if (alen > 1024) {
        PyErr_SetString(PyExc_ValueError, "at most 1 KiB of added fields");
        return NULL;
    }
    if (self->hreq == NULL || self->size < RESP_MAX) {
        PyErr_SetString(PyExc_ValueError, "the engine needs its hooks and a 64 KiB buffer");
        return NULL;
    }
    Slot *slot = slot_for(self, cfd, cfd);
    if (slot == NULL) {
        return NULL;
    }
    if (slot->peer >= 0 || slot->h1 != NULL) {
        PyErr_SetString(PyExc_ValueError, "the descriptor is on the C path already");
        return NULL;
    }
    H1 *h1 = PyMem_Calloc(1, sizeof(H1));
    if (h1 == NULL) {
        return PyErr_NoMemory();
    }
    h1->mask = mask;
    h1->sfd = -1;
    if (alen) {
        if ((h1->add = PyMem_Malloc((size_t)alen)) == NULL) {
            PyMem_Free(h1);
            return PyErr_NoMemory();
        }
        memcpy(h1->add, add, (size_t)alen);
        h1->alen = (size_t)alen;
    }
    slot->h1 = h1;
    slot->peer = cfd;
    slot->mode = MODE_H1;
    Py_RETURN_NONE;
}

/* h1_stop(cfd) -> (sfd, request, response) | None: Python takes cfd back (see
   `hback` for what the values mean); None: it was not in the engine. */
static PyObject *Pump_h1_stop(Pump *self, PyObject *arg) {
    long cfd = PyLong_AsLong(arg);
    if (cfd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (cfd < 0 || cfd >= self->nslots || self->slots[cfd].h1 == NULL) {
        Py_RETURN_NONE;
    }
    H1 *h1 = h1_detach(self, (int)cfd);
    int sfd = h1->state == H1_RESP ? h1->sfd : -1;
    PyObject *res = Py_BuildValue("iy#y#", sfd, h1->req ? h1->req : "", (Py_ssize_t)h1->rlen,
                                  h1->resp ? h1->resp : "", sfd >= 0 ? (Py_ssize_t)h1->plen : 0);
    h1_free(h1);
    return res;
}

#endif
