/*
 * _pump.c's HTTP/1 listeners: a `mode http` frontend's connections accepted by the pump and
 * served by the exchange engine (_http1.h) from their first request, with no Python object
 * per connection (issue 21 point 6: new connections; docs/http.md "The exchange engine").
 *
 * Why: per new connection the HTTP driver made a session, its client machine, an endpoint,
 * a server connection and its machine, then tore them down: ~100 us of Python where HAProxy
 * spends ~35 us in all.  A plain listener (_accept.h) marked HTTP (`h1_listen`) hands each
 * accepted client to the engine instead of splicing it: the engine reads and judges each
 * request as for a Python session's, picks the server with the listener's Balancer
 * (_balance.h, roundrobin/static-rr over the pool's mirror), connects (inside connect(2) on
 * loopback), writes the head, reads the plain response and sends it.  A `Connection: close`
 * request is plain here: its server gets the head without the field and the client the
 * response with `connection: close` at its end, then the connection closes, as HAProxy's
 * http-keep-alive mode does.  Between requests the connection keeps its server connection
 * (reused when the next pick is the same server, else closed: HAProxy would park it in the
 * server's idle pool; what the servers read is the same).
 *
 * Python keeps every count, through the listener's records (_accept.h's list, one call per
 * round): (PLAIN_STARTED, key, cfd, -1) accepted; (PLAIN_ENDED, key, cfd, server, H1_SERVED,
 * status, request bytes, response bytes, server bytes, head bytes written to the server) an
 * exchange served; (PLAIN_ENDED, key, cfd, -1, H1_CLOSED, 0, 0, 0, 0) the connection
 * closed.  A listener that does not log has its exchanges tallied per server instead and
 * recorded once per round, before Python takes the round's records: (PLAIN_ENDED, key, -1,
 * server, H1_TALLY, exchanges, the four byte sums, the responses by status class (other
 * first), the HTX sizes' sums, the exchanges on a reused connection) — one Python call per
 * server and round instead of one per exchange.
 * A listener that logs (`h1_listen(..., log)`) has each served record carry the
 * exchange's log facts after those: its start (accept or previous end), the request's
 * read, the connect's start and end, the response head's arrival, the end (monotonic
 * seconds), the request as read, the client's address and port, the listener's, the
 * request's and the response's HTX sizes, the exchanges served before and (log 2) the
 * response's head (http/own_facts.py).  `adds` are forwardfor / originalto fields, written
 * for each client at its accept unless its address is in an `except` network (_h1conf.h).
 * Anything not plain is handed
 * over at once, as the engine hands a session's exchange back: (PLAIN_HANDED, key, cfd,
 * server picked or -1, sfd the request went to or -1, 0, request bytes, response bytes,
 * unsent head bytes or None, exchanges served, accepted at, last exchange's end, expired),
 * and Python makes the connection a session from there (http/own.py).  The timers: the sweep
 * (`plain_sweep`) hands over a connection whose first request is late or whose server is
 * past `timeout server` (expired 1: the machines answer at their deadline), closes a
 * kept-alive one idle past its keep-alive wait (HAProxy closes it silently) and one whose
 * client does not take its response within `timeout client`.  `h1_release(key)` hands
 * every connection over (stop, reload, hard stop).
 *
 * Included by _pump.c after _http1.h: one compilation unit.
 */
#ifndef PYLVS_H1OWN_H
#define PYLVS_H1OWN_H

#define H1_FLUSH 2     /* an own connection's response waits for the client's socket */
#define H1_SERVED 16   /* `how` of a PLAIN_ENDED record: one exchange */
#define H1_CLOSED 17   /* `how` of a PLAIN_ENDED record: the connection closed */
#define H1_TALLY 18    /* `how` of a PLAIN_ENDED record: a round's exchanges on one server */
#define H1_MASK (EPOLLIN | EPOLLRDHUP)

static Plain *h1own_plain(Pump *self, H1 *h1) {
    return &self->plains[h1->plain - 1];
}

/* -- the listener's server connections (proto/http/conn/pool.py's rules, `http-reuse safe`,
   for what the pump connects: HAProxy's idle and safe lists per server, oldest first) ---- */

typedef struct H1Pool {
    int head[2], tail[2], n[2]; /* [0] idle (one transaction), [1] safe (more) */
    int used, max_used, est_need;
    double purge_at;
    /* the exchanges served on this server since the last record, when the listener does
       not log: their count, bytes (request, response, server's, head written) and
       responses by status class ([0] other, [1..5] 1xx..5xx: proto/http/stats.py) */
    Py_ssize_t t_n, t_in, t_out, t_srv, t_req, t_cls[6];
    Py_ssize_t t_hin, t_hout, t_reused; /* HTX sizes (%U, %B), requests on idle connections */
} H1Pool;

/* The tallies of `p` as records: (PLAIN_ENDED, key, -1, server, H1_TALLY, exchanges,
   request bytes, response bytes, server bytes, head bytes, the six class counts, the
   requests' and the responses' HTX sizes, the exchanges that reused an idle connection). */
static void h1tally_flush_one(Pump *self, Plain *p) {
    for (int i = 0; i < p->npools; i++) {
        H1Pool *sp = &p->pools[i];
        if (!sp->t_n) {
            continue;
        }
        Py_ssize_t *c = sp->t_cls;
        if (plain_record(self, Py_BuildValue("iiiiinnnnnnnnnnnnnn", PLAIN_ENDED, p->key, -1, i,
                                             H1_TALLY, sp->t_n, sp->t_in, sp->t_out, sp->t_srv,
                                             sp->t_req, c[0], c[1], c[2], c[3], c[4], c[5],
                                             sp->t_hin, sp->t_hout, sp->t_reused)) < 0) {
            report_error(self, -1);
        }
        sp->t_n = sp->t_in = sp->t_out = sp->t_srv = sp->t_req = 0;
        sp->t_hin = sp->t_hout = sp->t_reused = 0;
        memset(sp->t_cls, 0, sizeof(sp->t_cls));
    }
    p->tallied = 0;
}

/* Every listener's tallies as records: before Python takes a round's records. */
static void h1tally_flush(Pump *self) {
    for (int k = 0; k < self->nplains; k++) {
        if (self->plains[k].tallied) {
            h1tally_flush_one(self, &self->plains[k]);
        }
    }
}

static H1Pool *h1pool(Plain *p, int i) {
    return i >= 0 && i < p->npools ? &p->pools[i] : NULL;
}

static void h1pool_use(H1Pool *sp) {
    sp->used++;
    if (sp->used > sp->max_used) {
        sp->max_used = sp->used;
    }
    if (sp->used > sp->est_need) {
        sp->est_need = sp->used;
    }
}

static void h1pool_push(Pump *self, H1Pool *sp, int q, int sfd) {
    Slot *s = &self->slots[sfd];
    s->lnext = -1;
    s->lprev = sp->tail[q];
    if (sp->tail[q] >= 0) {
        self->slots[sp->tail[q]].lnext = sfd;
    } else {
        sp->head[q] = sfd;
    }
    sp->tail[q] = sfd;
    sp->n[q]++;
}

static void h1pool_remove(Pump *self, H1Pool *sp, int q, int sfd) {
    Slot *s = &self->slots[sfd];
    if (s->lprev >= 0) {
        self->slots[s->lprev].lnext = s->lnext;
    } else {
        sp->head[q] = s->lnext;
    }
    if (s->lnext >= 0) {
        self->slots[s->lnext].lprev = s->lprev;
    } else {
        sp->tail[q] = s->lprev;
    }
    s->lnext = s->lprev = -1;
    sp->n[q]--;
}

static void h1pool_close(Pump *self, Plain *p, int sfd) {
    Slot *s = &self->slots[sfd];
    p->sclosed++; /* show stat's h1 module, backend side (h1_conns) */
    s->peer = -1;
    s->mode = 0;
    s->plain = 0;
    s->h1txn = 0;
    drop_pending(self, sfd);
    close(sfd);
}

/* An idle connection for a request of a kept-alive client (a first request gets none:
   `safe`), its server's idle list first, then its safe one; -1: none. */
static int h1pool_take(Pump *self, Plain *p, int i) {
    H1Pool *sp = h1pool(p, i);
    if (sp == NULL) {
        return -1;
    }
    int q = sp->n[0] ? 0 : 1;
    int sfd = sp->head[q];
    if (sfd < 0) {
        return -1;
    }
    h1pool_remove(self, sp, q, sfd);
    h1pool_use(sp);
    self->slots[sfd].peer = -1; /* in use again: its peer will be the client */
    self->slots[sfd].plain = 0;
    return sfd;
}

/* The connection finished a transaction (ServerPool.release): kept idle, or closed. */
static void h1pool_release(Pump *self, Plain *p, int i, int gen, int sfd, double now) {
    H1Pool *sp = gen == p->gen ? h1pool(p, i) : NULL;
    Slot *s = &self->slots[sfd];
    s->h1txn++;
    if (sp == NULL) {
        h1pool_close(self, p, sfd);
        return;
    }
    int safe = s->h1txn > 1, idle = sp->n[0] + sp->n[1];
    int need = sp->used > sp->est_need ? sp->used : sp->est_need;
    int keep = (!sp->n[1] && (safe || !sp->n[0])) || sp->used + idle <= need;
    sp->used--;
    if (!keep || p->purge_delay <= 0) {
        h1pool_close(self, p, sfd);
        return;
    }
    s->peer = sfd; /* idle: its own peer (h1_response tells it so) */
    s->mode = MODE_H1_SRV;
    s->plain = (int)(p - self->plains) + 1;
    s->srv = i;
    h1pool_push(self, sp, safe, sfd);
    if (sp->purge_at == 0.0) {
        sp->purge_at = now + p->purge_delay;
    }
}

/* An idle connection spoke (its close, or bytes nobody asked for): out of the pool. */
static int h1pool_event(Pump *self, int sfd) {
    Slot *s = &self->slots[sfd];
    Plain *p = &self->plains[s->plain - 1];
    H1Pool *sp = h1pool(p, s->srv);
    if (sp != NULL) {
        h1pool_remove(self, sp, s->h1txn > 1, sfd);
    }
    h1pool_close(self, p, sfd);
    return 1;
}

/* srv_cleanup_idle_conns (ServerPool.purge): every pool-purge-delay, half the idle
   connections beyond what the server needed at once recently close, oldest first. */
static void h1pool_purge(Pump *self, Plain *p, double now) {
    for (int i = 0; i < p->npools; i++) {
        H1Pool *sp = &p->pools[i];
        if (sp->purge_at == 0.0 || now < sp->purge_at) {
            continue;
        }
        int idle = sp->n[0] + sp->n[1];
        sp->purge_at = 0.0;
        if (!idle) {
            continue;
        }
        int need = sp->max_used > sp->est_need ? sp->max_used : sp->est_need;
        int exceed = sp->used + idle - need;
        exceed = exceed / 2 + (exceed & 1);
        int est = (sp->est_need + sp->max_used) / 2;
        sp->est_need = est > sp->max_used ? est : sp->max_used;
        sp->max_used = sp->used;
        int n = exceed > 0 ? (exceed + 1 < idle ? exceed + 1 : idle) : 0;
        for (int k = 0; k < n; k++) {
            int q = sp->n[0] ? 0 : 1;
            int sfd = sp->head[q];
            h1pool_remove(self, sp, q, sfd);
            h1pool_close(self, p, sfd);
        }
        if (sp->n[0] + sp->n[1]) {
            sp->purge_at = now + p->purge_delay;
        }
    }
}

/* Every idle connection closed, the pools sized for the listener's servers again (their
   tallies recorded first, by the indexes they were counted under). */
static void h1pool_reset(Pump *self, Plain *p) {
    if (p->tallied) {
        h1tally_flush_one(self, p);
    }
    for (int i = 0; i < p->npools; i++) {
        for (int q = 0; q < 2; q++) {
            while (p->pools[i].head[q] >= 0) {
                int sfd = p->pools[i].head[q];
                h1pool_remove(self, &p->pools[i], q, sfd);
                h1pool_close(self, p, sfd);
            }
        }
    }
    H1Pool *pools = PyMem_Realloc(p->pools, (size_t)(p->nsrv ? p->nsrv : 1) * sizeof(H1Pool));
    if (pools == NULL) {
        PyMem_Free(p->pools);
        p->pools = NULL;
        p->npools = 0; /* no pool: every connection closes after its exchange */
    } else {
        p->pools = pools;
        p->npools = p->nsrv;
    }
    for (int i = 0; i < p->npools; i++) {
        H1Pool *sp = &p->pools[i];
        sp->head[0] = sp->head[1] = sp->tail[0] = sp->tail[1] = -1;
        sp->n[0] = sp->n[1] = 0;
        sp->used = sp->max_used = sp->est_need = 0;
        sp->purge_at = 0.0;
        sp->t_n = sp->t_in = sp->t_out = sp->t_srv = sp->t_req = 0;
        sp->t_hin = sp->t_hout = sp->t_reused = 0;
        memset(sp->t_cls, 0, sizeof(sp->t_cls));
    }
    p->gen++;
}

static void h1own_link(Pump *self, Plain *p, int cfd, H1 *h1) {
    h1->hprev = -1;
    h1->hnext = p->hlive;
    if (p->hlive >= 0) {
        self->slots[p->hlive].h1->hprev = cfd;
    }
    p->hlive = cfd;
}

/* plain_servers' remap for the listener's connections: the server of each one's request
   and of its kept server connection. */
static void h1own_remap(Pump *self, Plain *p, const int *remap, int nold) {
    for (int fd = p->hlive; fd >= 0;) {
        H1 *h1 = self->slots[fd].h1;
        h1->pick = plain_remapped(remap, nold, h1->pick);
        h1->srv = plain_remapped(remap, nold, h1->srv);
        fd = h1->hnext;
    }
}

static void h1own_unlink(Pump *self, Plain *p, H1 *h1) {
    if (h1->hprev >= 0) {
        self->slots[h1->hprev].h1->hnext = h1->hnext;
    } else {
        p->hlive = h1->hnext;
    }
    if (h1->hnext >= 0) {
        self->slots[h1->hnext].h1->hprev = h1->hprev;
    }
    h1->hnext = h1->hprev = -1;
}

/* The server connection of `h1`'s request leaves the pool's count: closed, or (`keep`)
   handed to Python. */
static void h1own_drop_srv(Pump *self, H1 *h1, int keep) {
    int sfd = h1->sfd;
    if (sfd < 0) {
        return;
    }
    Plain *p = h1own_plain(self, h1);
    H1Pool *sp = h1->gen == p->gen ? h1pool(p, h1->srv) : NULL;
    if (sp != NULL) {
        sp->used--;
    }
    h1->sfd = -1;
    h1->srv = -1;
    self->slots[sfd].peer = -1;
    self->slots[sfd].mode = 0;
    self->slots[sfd].h1txn = 0;
    drop_pending(self, sfd);
    if (!keep) {
        p->sclosed++;
        close(sfd);
    }
}

/* The connection is over: both sockets closed, the record made. */
static void h1own_close(Pump *self, int cfd, H1 *h1) {
    Plain *p = h1own_plain(self, h1);
    Slot *c = &self->slots[cfd];
    h1own_drop_srv(self, h1, 0);
    h1own_unlink(self, p, h1);
    c->h1 = NULL;
    c->peer = -1;
    c->mode = 0;
    h1_free(h1);
    drop_pending(self, cfd);
    close(cfd);
    if (plain_record(self, Py_BuildValue("iiiiiiiii", PLAIN_ENDED, p->key, cfd, -1, H1_CLOSED, 0,
                                         0, 0, 0)) < 0) {
        report_error(self, cfd);
    }
}

/* Hand the connection to Python (see the header comment): out of the engine and of the
   epoll set (Python registers its own), the record delivered at once. */
static void h1own_back(Pump *self, int cfd, H1 *h1, const char *unsent, Py_ssize_t ulen,
                       int expired) {
    Plain *p = h1own_plain(self, h1);
    Slot *c = &self->slots[cfd];
    struct epoll_event none = {0};
    int sfd = -1;
    if (h1->state == H1_RESP && h1->sfd >= 0) {
        sfd = h1->sfd; /* the request went there: Python replays it */
        h1own_drop_srv(self, h1, 1);
        epoll_ctl(self->epfd, EPOLL_CTL_DEL, sfd, &none);
    } else {
        h1own_drop_srv(self, h1, 0);
    }
    h1own_unlink(self, p, h1);
    c->h1 = NULL;
    c->peer = -1;
    c->mode = 0;
    drop_pending(self, cfd);
    epoll_ctl(self->epfd, EPOLL_CTL_DEL, cfd, &none);
    PyObject *req = PyBytes_FromStringAndSize(h1->req ? h1->req : "", (Py_ssize_t)h1->rlen);
    PyObject *resp = PyBytes_FromStringAndSize(sfd >= 0 && h1->resp ? h1->resp : "",
                                               sfd >= 0 ? (Py_ssize_t)h1->plen : 0);
    PyObject *rest = ulen > 0 ? PyBytes_FromStringAndSize(unsent, ulen) : Py_NewRef(Py_None);
    PyObject *rec = NULL;
    if (req != NULL && resp != NULL && rest != NULL) {
        rec = Py_BuildValue("iiiiiiOOOiddi", PLAIN_HANDED, p->key, cfd,
                            h1->state == H1_RESP || sfd < 0 ? h1->pick : -1, sfd, 0, req, resp,
                            rest, h1->served, h1->born, h1->last, expired);
    }
    Py_XDECREF(req);
    Py_XDECREF(resp);
    Py_XDECREF(rest);
    h1_free(h1);
    if (plain_record(self, rec) < 0) {
        report_error(self, cfd);
        return;
    }
    plain_deliver(self);
}

/* The server for the request just read, and a connection to it (the kept one when the pick
   is its server): its descriptor, or -1 (Python takes the request; `pick` says whom C
   picked, so that its machines use that pick). */
static int h1own_pick(Pump *self, int cfd, H1 *h1) {
    Plain *p = h1own_plain(self, h1);
    int i = bal_pick(&((BalancerObject *)p->bal)->b);
    h1->pick = i;
    if (i < 0 || i >= p->nsrv || p->alen[i] == 0) {
        return -1;
    }
    if (h1->log) {
        h1->t_conn = monotonic_now(); /* HAProxy's Tw ends, Tc begins */
    }
    int sfd = h1->served ? h1pool_take(self, p, i) : -1;
    h1->reused = sfd >= 0;
    if (sfd >= 0) {
        h1->t_connd = h1->t_conn; /* a reused connection: Tc 0 */
        h1->sfd = sfd;
        h1->srv = i;
        h1->gen = p->gen;
        return sfd;
    }
    int err;
    sfd = plain_connect(p, i, &err);
    if (sfd < 0) {
        return -1;
    }
    struct epoll_event e = {.events = H1_MASK, .data = {.fd = sfd}};
    if (err || grow_slots(self, sfd) < 0 || epoll_ctl(self->epfd, EPOLL_CTL_ADD, sfd, &e) < 0) {
        PyErr_Clear();
        close(sfd); /* under way or refused: the machines connect, retry, redispatch */
        return -1;
    }
    h1->sfd = sfd;
    h1->srv = i;
    h1->gen = p->gen;
    p->sopened++;
    if (h1->log) {
        h1->t_connd = monotonic_now(); /* on loopback the handshake ran inside connect(2) */
    }
    self->slots[sfd].h1txn = 0;
    H1Pool *sp = h1pool(p, i);
    if (sp != NULL) {
        h1pool_use(sp);
    }
    (void)cfd;
    return sfd;
}

/* The response went out (`sent` of `total` bytes): the record; then the rest waits for the
   client's socket, or the connection closes, or it waits for the next request. */
static int h1own_sent(Pump *self, int cfd, H1 *h1, int status, struct iovec *iov,
                      size_t total, size_t sent) {
    Plain *p = h1own_plain(self, h1);
    double now = monotonic_now();
    PyObject *rec;
    H1Pool *sp = h1->log || h1->gen != p->gen ? NULL : h1pool(p, h1->srv);
    if (sp != NULL) { /* no log: counted in the server's tally, one record per round (Python's
                         work per exchange was half the CPU of a kept-alive request) */
        int k = status / 100;
        sp->t_n++;
        sp->t_in += (Py_ssize_t)h1->rlen;
        sp->t_out += (Py_ssize_t)total;
        sp->t_srv += (Py_ssize_t)h1->plen;
        sp->t_req += (Py_ssize_t)h1->swrote;
        sp->t_cls[k >= 1 && k <= 5 ? k : 0]++;
        sp->t_hin += (Py_ssize_t)h1->hin;
        sp->t_hout += (Py_ssize_t)h1->hout;
        sp->t_reused += h1->reused;
        p->tallied = 1;
        rec = NULL;
    } else if (h1->log) { /* its log facts too (http/ownlog.py) */
        rec = Py_BuildValue("iiiiiinnnnddddddy#sisinniy#", PLAIN_ENDED, p->key, cfd,
                            h1->srv, H1_SERVED, status, (Py_ssize_t)h1->rlen,
                            (Py_ssize_t)total, (Py_ssize_t)h1->plen, (Py_ssize_t)h1->swrote,
                            h1->served ? h1->last : h1->born, h1->t_req, h1->t_conn,
                            h1->t_connd, h1->t_resp, now, h1->req,
                            (Py_ssize_t)h1->rlen, h1->src, h1->sport, h1->dst, h1->dport,
                            (Py_ssize_t)h1->hin, (Py_ssize_t)h1->hout, h1->served,
                            h1->resp, (Py_ssize_t)(h1->log > 1 ? h1->phead : 0));
        h1->t_resp = 0.0;
    } else {
        rec = Py_BuildValue("iiiiiinnnn", PLAIN_ENDED, p->key, cfd, h1->srv, H1_SERVED, status,
                            (Py_ssize_t)h1->rlen, (Py_ssize_t)total, (Py_ssize_t)h1->plen,
                            (Py_ssize_t)h1->swrote);
    }
    if (sp == NULL && plain_record(self, rec) < 0) {
        report_error(self, cfd);
    }
    h1->served++;
    h1->last = now;
    h1->pick = -1;
    int sfd = h1->sfd;
    h1->sfd = -1;
    h1pool_release(self, p, h1->srv, h1->gen, sfd, h1->last);
    h1->srv = -1;
    h1->rlen = h1->plen = 0;
    h1->state = H1_IDLE;
    if (h1->muted) {
        struct epoll_event e = {.events = h1->mask, .data = {.fd = cfd}};
        epoll_ctl(self->epfd, EPOLL_CTL_MOD, cfd, &e);
        h1->muted = 0;
    }
    if (sent < total) {
        char *rest = PyMem_Malloc(total - sent);
        if (rest == NULL) {
            h1own_close(self, cfd, h1);
            return 1;
        }
        size_t k = sent, o = 0;
        for (int i = 0; i < 2; i++) {
            if (k < iov[i].iov_len) {
                memcpy(rest + o, (char *)iov[i].iov_base + k, iov[i].iov_len - k);
                o += iov[i].iov_len - k;
                k = 0;
            } else {
                k -= iov[i].iov_len;
            }
        }
        h1->rest = rest;
        h1->rest_len = total - sent;
        h1->rest_off = 0;
        h1->state = H1_FLUSH;
        struct epoll_event e = {.events = EPOLLOUT, .data = {.fd = cfd}};
        epoll_ctl(self->epfd, EPOLL_CTL_MOD, cfd, &e);
    }
    /* an idle connection holds no buffer (HAProxy releases its buffers between requests) */
    PyMem_Free(h1->req);
    PyMem_Free(h1->resp);
    h1->req = h1->resp = NULL;
    if (h1->state == H1_IDLE && h1->close) {
        h1own_close(self, cfd, h1);
    }
    return 1;
}

/* A client event the general request path does not handle: the rest of a response. */
static int h1own_event(Pump *self, int cfd, H1 *h1, uint32_t ev) {
    if (h1->state != H1_FLUSH) {
        return 0;
    }
    if (ev & EPOLLERR) {
        h1own_close(self, cfd, h1);
        return 1;
    }
    int err;
    ssize_t s = send_some(cfd, h1->rest + h1->rest_off, h1->rest_len - h1->rest_off, &err);
    if (err) {
        h1own_close(self, cfd, h1);
        return 1;
    }
    h1->rest_off += (size_t)s;
    if (h1->rest_off < h1->rest_len) {
        return 1;
    }
    PyMem_Free(h1->rest);
    h1->rest = NULL;
    h1->state = H1_IDLE;
    h1->last = monotonic_now();
    if (h1->close) {
        h1own_close(self, cfd, h1);
        return 1;
    }
    struct epoll_event e = {.events = h1->mask, .data = {.fd = cfd}};
    epoll_ctl(self->epfd, EPOLL_CTL_MOD, cfd, &e);
    return 1;
}


/* An accepted client of an HTTP listener: into the engine, or to Python. */
static void h1own_accept(Pump *self, Plain *p, int cfd) {
    p->avail--;
    self->gavail--;
    H1 *h1 = grow_slots(self, cfd) < 0 ? NULL : PyMem_Calloc(1, sizeof(H1));
    struct epoll_event e = {.events = H1_MASK, .data = {.fd = cfd}};
    if (h1 == NULL || epoll_ctl(self->epfd, EPOLL_CTL_ADD, cfd, &e) < 0) {
        PyErr_Clear();
        PyMem_Free(h1);
        plain_handed(self, p, cfd, -1, -1, 0);
        return;
    }
    h1->own = 1;
    h1->plain = (int)(p - self->plains) + 1;
    h1->sfd = h1->srv = h1->pick = -1;
    h1->mask = H1_MASK;
    h1->born = h1->last = monotonic_now();
    if (p->h1conf != NULL && h1own_who(h1, p->h1conf, cfd) < 0) {
        PyErr_Clear();
        epoll_ctl(self->epfd, EPOLL_CTL_DEL, cfd, &e);
        h1_free(h1);
        plain_handed(self, p, cfd, -1, -1, 0); /* the machines find out what is wrong */
        return;
    }
    Slot *c = &self->slots[cfd];
    c->h1 = h1;
    c->peer = cfd;
    c->mode = MODE_H1;
    h1own_link(self, p, cfd, h1);
    if (plain_record(self, Py_BuildValue("iiii", PLAIN_STARTED, p->key, cfd, -1)) < 0) {
        report_error(self, cfd);
    }
}

/* The timers of every own connection (see the header comment). */
static void h1own_sweep(Pump *self, double now) {
    for (int k = 0; k < self->nplains; k++) {
        Plain *p = &self->plains[k];
        for (int fd = p->hlive; fd >= 0;) {
            H1 *h1 = self->slots[fd].h1;
            int next = h1->hnext;
            if (h1->state == H1_RESP) {
                if (p->t_server > 0 && now - h1->sent >= p->t_server) {
                    h1own_back(self, fd, h1, NULL, 0, 1);
                }
            } else if (h1->state == H1_FLUSH) {
                if (p->t_client > 0 && now - h1->last >= p->t_client) {
                    h1own_close(self, fd, h1);
                }
            } else if (h1->served == 0) {
                if (p->t_first > 0 && now - h1->born >= p->t_first) {
                    h1own_back(self, fd, h1, NULL, 0, 0); /* the machines' 408, or not */
                }
            } else if (p->t_ka > 0 && now - h1->last >= p->t_ka) {
                h1own_close(self, fd, h1);
            }
            fd = next;
        }
        if (p->http) {
            h1pool_purge(self, p, now);
        }
    }
}

/* h1_listen(key, t_first, t_ka, t_server, t_client, purge_delay): the plain listener `key`
   is an HTTP one (timeouts in seconds, 0: none; pool-purge-delay): its clients go to the
   engine. */
static PyObject *Pump_h1_listen(Pump *self, PyObject *args) {
    int key, log = 0;
    double t_first, t_ka, t_server, t_client, purge;
    PyObject *adds = NULL;
    if (!PyArg_ParseTuple(args, "iddddd|iO", &key, &t_first, &t_ka, &t_server, &t_client, &purge,
                          &log, &adds)) {
        return NULL;
    }
    Plain *p = plain_of_key(self, key);
    if (p == NULL || self->size < RESP_MAX) {
        PyErr_SetString(PyExc_ValueError, "no such plain listener, or a buffer under 64 KiB");
        return NULL;
    }
    H1Conf conf;
    if (h1own_conf(&conf, log, adds) < 0) {
        return NULL;
    }
    PyMem_Free(p->h1conf);
    p->h1conf = NULL;
    if ((conf.log || conf.nadds) && (p->h1conf = PyMem_Malloc(sizeof(conf))) == NULL) {
        return PyErr_NoMemory();
    }
    if (p->h1conf != NULL) {
        *p->h1conf = conf;
    }
    p->http = 1;
    p->purge_delay = purge;
    h1pool_reset(self, p);
    p->t_first = t_first;
    p->t_ka = t_ka;
    p->t_server = t_server;
    p->t_client = t_client;
    Py_RETURN_NONE;
}

/* h1_idle(key, server) -> the idle connections the listener's pool keeps to the server
   (`del server` refuses while there are: cli_parse_delete_server's curr_idle_conns). */
static PyObject *Pump_h1_idle(Pump *self, PyObject *args) {
    int key, i;
    if (!PyArg_ParseTuple(args, "ii", &key, &i)) {
        return NULL;
    }
    Plain *p = plain_of_key(self, key);
    H1Pool *sp = p != NULL ? h1pool(p, i) : NULL;
    return PyLong_FromLong(sp != NULL ? sp->n[0] + sp->n[1] : 0);
}

/* h1_list(key) -> [(cfd, sfd, server, since)] of the HTTP listener's exchanges in flight
   (`show sess`: HAProxy's stream of each request; an idle kept-alive connection has none),
   `since` the stream's start on the monotonic clock (the accept for a connection's first
   request, else the request's). */
static PyObject *Pump_h1_list(Pump *self, PyObject *args) {
    int key;
    if (!PyArg_ParseTuple(args, "i", &key)) {
        return NULL;
    }
    Plain *p = plain_of_key(self, key);
    PyObject *list = PyList_New(0);
    for (int fd = p != NULL ? p->hlive : -1; list != NULL && fd >= 0;) {
        H1 *h1 = self->slots[fd].h1;
        if (h1->state == H1_RESP) {
            PyObject *t = Py_BuildValue("iiid", fd, h1->sfd, h1->srv,
                                        h1->served ? h1->sent : h1->born);
            if (t == NULL || PyList_Append(list, t) < 0) {
                Py_CLEAR(list);
            }
            Py_XDECREF(t);
        }
        fd = h1->hnext;
    }
    return list;
}

/* h1_hand(cfd) -> whether the pump had that connection of an HTTP listener: handed over
   to Python now (`shutdown session`: the session Python makes of it is aborted). */
static PyObject *Pump_h1_hand(Pump *self, PyObject *args) {
    int cfd;
    if (!PyArg_ParseTuple(args, "i", &cfd)) {
        return NULL;
    }
    if (cfd < 0 || cfd >= self->nslots || self->slots[cfd].h1 == NULL ||
        !self->slots[cfd].h1->own || self->slots[cfd].mode != MODE_H1) {
        Py_RETURN_FALSE;
    }
    H1 *h1 = self->slots[cfd].h1;
    if (h1->state == H1_FLUSH) {
        h1own_close(self, cfd, h1);
    } else {
        h1own_back(self, cfd, h1, NULL, 0, 0);
    }
    Py_RETURN_TRUE;
}

/* h1_take(key, server) -> an idle connection of the HTTP listener's pool to that server,
   out of the pump (Python's now), or -1. */
static PyObject *Pump_h1_take(Pump *self, PyObject *args) {
    int key, i;
    if (!PyArg_ParseTuple(args, "ii", &key, &i)) {
        return NULL;
    }
    Plain *p = plain_of_key(self, key);
    int sfd = p != NULL && p->http ? h1pool_take(self, p, i) : -1;
    if (sfd >= 0) {
        struct epoll_event none = {0};
        H1Pool *sp = h1pool(p, i);
        sp->used--; /* not the pump's to count any more */
        self->slots[sfd].mode = 0;
        self->slots[sfd].h1txn = 0;
        drop_pending(self, sfd);
        epoll_ctl(self->epfd, EPOLL_CTL_DEL, sfd, &none);
    }
    return PyLong_FromLong(sfd);
}

/* h1_release(key) -> how many: every connection of the HTTP listener `key` (-1: all) goes
   to Python (their records are taken with plain_take, or come with the round's). */
/* h1_conns(key) -> (opened, closed): the server connections the listener's pool opened and
   closed so far (show stat's h1_open_connections / h1_total_connections of its backend; one
   handed to Python is neither closed here nor opened again there). */
static PyObject *Pump_h1_conns(Pump *self, PyObject *args) {
    int key;
    if (!PyArg_ParseTuple(args, "i", &key)) {
        return NULL;
    }
    for (int k = 0; k < self->nplains; k++) {
        if (self->plains[k].key == key) {
            return Py_BuildValue("KK", (unsigned long long)self->plains[k].sopened,
                                 (unsigned long long)self->plains[k].sclosed);
        }
    }
    return Py_BuildValue("KK", 0ULL, 0ULL);
}

static PyObject *Pump_h1_release(Pump *self, PyObject *args) {
    int key, n = 0;
    if (!PyArg_ParseTuple(args, "i", &key)) {
        return NULL;
    }
    for (int k = 0; k < self->nplains; k++) {
        Plain *p = &self->plains[k];
        if (key >= 0 && p->key != key) {
            continue;
        }
        while (p->hlive >= 0) {
            int fd = p->hlive;
            H1 *h1 = self->slots[fd].h1;
            if (h1->state == H1_FLUSH) {
                h1own_close(self, fd, h1); /* its response is out but for what is queued */
            } else {
                h1own_back(self, fd, h1, NULL, 0, 0);
            }
            n++;
        }
        if (p->http) {
            h1pool_reset(self, p); /* idle connections close with the listener's clients */
        }
    }
    return PyLong_FromLong(n);
}

#endif
