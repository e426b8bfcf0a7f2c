/*
 * _pump.c's plain listeners: a `mode tcp` frontend's streams that need no decision from
 * Python, accepted, balanced, connected and spliced here, with no Python object per stream.
 *
 * Why: per new connection the HAProxy mode's session (dataplane/haproxy/session.py, the
 * accept loop, the pick, the timers, the counters) cost ~20 us of Python on top of the
 * pump's ~10 (docs/performance.md, session 12).  A plain listener (`plain_listen`) is a
 * listening socket whose frontend and backend need nothing per stream that only Python does
 * (dataplane/haproxy/plain.py decides which: no rules, no log, no PROXY header either way, no
 * stick table, a balance the mirror picks: roundrobin or static-rr without maxconn,
 * leastconn, first).  On its readiness the pump accepts,
 * picks the server with the listener's Balancer (_balance.h), connects (one call: on
 * loopback the handshake runs inside connect(2)) and splices the pair (_splice.h).
 *
 * Python keeps every count and limit.  It learns what happened through records, handed over
 * once per round of `run` (the `plain` callback), not per stream:
 *     (PLAIN_STARTED, key, cfd, server)          a spliced stream started here
 *     (PLAIN_ENDED, key, cfd, server, how, client bytes, server bytes, client packets,
 *      server packets)                            it ended (how: SPLICE_* or PLAIN_KILLED /
 *                                                 PLAIN_EXPIRED), both sockets closed
 *     (PLAIN_HANDED, key, cfd, server, sfd, err)  Python must go on with this client: no
 *                                                 pick in C (server -1), or a connect that is
 *                                                 under way or failed (sfd, err as
 *                                                 connect_splice gives them; sfd -1: none
 *                                                 tried)
 * Limits: the pump starts at most `avail` streams of a listener and `gavail` in all before
 * Python recounts them (`plain_room`, after each batch of records); at 0 the listener's
 * event goes to its Python handler (the usual accept loop: it pauses or serves).  Idle
 * timeouts: `plain_sweep(now)` ends the streams idle longer than their listener's timeout
 * (its half-closed one once either side sent its FIN).  `plain_list`/`plain_kill` give
 * `show sess`, `shutdown sessions`, stop and reload the streams.
 *
 * Included by _pump.c after _splice.h and _balance.h: one compilation unit.
 */
#ifndef PYLVS_ACCEPT_H
#define PYLVS_ACCEPT_H

#define PLAIN_STARTED 0
#define PLAIN_ENDED 1
#define PLAIN_HANDED 2
#define PLAIN_KILLED 3  /* `how` of a stream Python ended (plain_kill) */
#define PLAIN_EXPIRED 4 /* `how` of a stream plain_sweep ended */
#define PLAIN_BATCH 64  /* accepts per readiness event, as dataplane/proxy/accept.py */

struct Plain {
    int lfd;
    int key;
    int accepting; /* plain_listen'd and not stopped */
    PyObject *bal; /* the BalancerObject */
    int nsrv;
    struct sockaddr_storage *addr;
    socklen_t *alen; /* 0: C does not connect to this server */
    Py_ssize_t avail;
    double idle, fin_idle;
    /* an HTTP listener's (h1_listen, _h1own.h): its live connections, their timeouts */
    int http;
    int hlive;
    double t_first, t_ka, t_server, t_client;
    struct H1Pool *pools; /* per server index: its idle connections (_h1own.h) */
    int npools;
    int gen;              /* the server indexes' generation (plain_servers moves them) */
    double purge_delay;
    uint64_t sopened, sclosed; /* its pool's server connections (h1_conns) */
    struct H1Conf *h1conf; /* what its exchanges log and add (_h1own.h), or NULL */
    int tallied; /* its pools hold exchanges not yet recorded (_h1own.h's tallies) */
};

static void h1pool_reset(Pump *self, Plain *p); /* _h1own.h */
static void h1tally_flush(Pump *self);

static void h1own_accept(Pump *self, Plain *p, int cfd); /* _h1own.h */
static void h1own_sweep(Pump *self, double now);

static int plain_record(Pump *self, PyObject *rec) {
    if (rec == NULL) {
        return -1;
    }
    if (self->precs == NULL && (self->precs = PyList_New(0)) == NULL) {
        Py_DECREF(rec);
        return -1;
    }
    int r = PyList_Append(self->precs, rec);
    Py_DECREF(rec);
    return r;
}

static void plain_link(Pump *self, int cfd) {
    Slot *c = &self->slots[cfd];
    c->lprev = -1;
    c->lnext = self->plive;
    if (self->plive >= 0) {
        self->slots[self->plive].lprev = cfd;
    }
    self->plive = cfd;
}

static void plain_unlink(Pump *self, int cfd) {
    Slot *c = &self->slots[cfd];
    if (c->lprev >= 0) {
        self->slots[c->lprev].lnext = c->lnext;
    } else {
        self->plive = c->lnext;
    }
    if (c->lnext >= 0) {
        self->slots[c->lnext].lprev = c->lprev;
    }
    c->lnext = c->lprev = -1;
}

/* sp_end's hook: a plain stream's sockets are closed; record it (its counts with it). */
static void plain_ended(Pump *self, int cfd, int how, unsigned long long cp,
                        unsigned long long cb, unsigned long long sp, unsigned long long sb) {
    Slot *c = &self->slots[cfd];
    Plain *p = &self->plains[c->plain - 1];
    int srv = c->srv;
    plain_unlink(self, cfd);
    self->slots[cfd].plain = 0;
    if (plain_record(self, Py_BuildValue("iiiiiKKKK", PLAIN_ENDED, p->key, cfd, srv, how, cb, sb,
                                         cp, sp)) < 0) {
        report_error(self, cfd);
    }
}

static void plain_deliver(Pump *self);

/* Python goes on with this client: told at once (with what came before), so that what it
   decides (a retry's or a redispatch's pick) comes before the next client's pick, in
   HAProxy's order. */
static void plain_handed(Pump *self, Plain *p, int cfd, int srv, int sfd, int err) {
    if (plain_record(self, Py_BuildValue("iiiiii", PLAIN_HANDED, p->key, cfd, srv, sfd, err)) <
        0) {
        report_error(self, cfd);
        return;
    }
    plain_deliver(self);
}

/* connect(2) a new socket to server `i`: (sfd, 0) connected; (sfd, errno) under way or
   failed; (-2, errno) no socket made.  As connect_splice does it. */
static int plain_connect(Plain *p, int i, int *err) {
    int sfd = socket(p->addr[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sfd < 0) {
        *err = errno;
        return -2;
    }
    int one = 1;
    *err = 0;
    if (setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
        connect(sfd, (struct sockaddr *)&p->addr[i], p->alen[i]) < 0) {
        *err = errno;
    }
    if (*err == EINPROGRESS) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        if (getpeername(sfd, (struct sockaddr *)&peer, &plen) == 0) {
            *err = 0;
        } else {
            int soerr = 0;
            socklen_t elen = sizeof(soerr);
            if (getsockopt(sfd, SOL_SOCKET, SO_ERROR, &soerr, &elen) == 0 && soerr) {
                *err = soerr;
            }
        }
    }
    return sfd;
}

/* One accepted client: pick, connect, splice, or hand it to Python. */
static void plain_start(Pump *self, Plain *p, int cfd, double *now) {
    p->avail--;
    self->gavail--;
    if (grow_slots(self, cfd) < 0) {
        PyErr_Clear();
        plain_handed(self, p, cfd, -1, -1, 0);
        return;
    }
    int i = bal_pick(&((BalancerObject *)p->bal)->b);
    if (i < 0 || i >= p->nsrv || p->alen[i] == 0) {
        plain_handed(self, p, cfd, i, -1, 0); /* the pool's index, whatever C knows of it */
        return;
    }
    int err;
    int sfd = plain_connect(p, i, &err);
    if (sfd < 0 || err) {
        plain_handed(self, p, cfd, i, sfd, err);
        return;
    }
    if (grow_slots(self, sfd) < 0 || splice_pair(self, cfd, sfd, 0) < 0) {
        PyErr_Clear();
        close(sfd);
        plain_handed(self, p, cfd, i, -2, ENOMEM);
        return;
    }
    if (*now == 0.0) {
        *now = monotonic_now();
    }
    Slot *c = &self->slots[cfd], *s = &self->slots[sfd];
    c->plain = s->plain = (int)(p - self->plains) + 1;
    c->srv = i;
    c->born = *now;
    c->last = s->last = *now;
    plain_link(self, cfd);
    if (plain_record(self, Py_BuildValue("iiii", PLAIN_STARTED, p->key, cfd, i)) < 0) {
        report_error(self, cfd);
    }
}

/* A plain listener is readable: accept a batch; 0 when its Python handler must take the
   event (no room left here, or an accept error other than "nobody waits"). */
static int listen_event(Pump *self, int lfd, uint32_t ev, double *now) {
    Plain *p = &self->plains[self->slots[lfd].plain - 1];
    if (!(ev & EPOLLIN) || (ev & EPOLLERR) || p->avail <= 0 || self->gavail <= 0) {
        return 0;
    }
    for (int k = 0; k < PLAIN_BATCH && p->avail > 0 && self->gavail > 0; k++) {
        int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return 1;
            }
            if (errno == ECONNABORTED || errno == EPROTO) {
                continue; /* that client is gone: the next */
            }
            return 0; /* out of descriptors or memory: the Python loop backs off */
        }
        if (p->http) {
            h1own_accept(self, p, cfd);
        } else {
            plain_start(self, p, cfd, now);
        }
        if (self->fatal) {
            return 1;
        }
    }
    return 1;
}

static Plain *plain_of_key(Pump *self, int key) {
    for (int i = 0; i < self->nplains; i++) {
        if (self->plains[i].key == key && self->plains[i].bal != NULL) {
            return &self->plains[i];
        }
    }
    return NULL;
}

/* The servers' addresses from Python: per index, (host, port, v6) or None (alen 0). */
static int plain_addresses(PyObject *servers, struct sockaddr_storage **paddr, socklen_t **palen,
                           int *pn) {
    PyObject *fast = PySequence_Fast(servers, "servers must be a sequence");
    if (fast == NULL) {
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    struct sockaddr_storage *addr = PyMem_Calloc(n ? (size_t)n : 1, sizeof(*addr));
    socklen_t *alen = PyMem_Calloc(n ? (size_t)n : 1, sizeof(*alen));
    if (addr == NULL || alen == NULL || n > 1000000) {
        PyMem_Free(addr);
        PyMem_Free(alen);
        Py_DECREF(fast);
        if (n > 1000000) {
            PyErr_SetString(PyExc_ValueError, "too many servers");
        } else {
            PyErr_NoMemory();
        }
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        const char *host;
        int port, v6;
        if (item == Py_None) {
            continue;
        }
        if (!PyArg_ParseTuple(item, "sip", &host, &port, &v6) || port < 0 || port > 65535) {
            PyMem_Free(addr);
            PyMem_Free(alen);
            Py_DECREF(fast);
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_ValueError, "port out of range");
            }
            return -1;
        }
        if (v6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr[i];
            a->sin6_family = AF_INET6;
            a->sin6_port = htons((uint16_t)port);
            alen[i] = inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? sizeof(*a) : 0;
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)&addr[i];
            a->sin_family = AF_INET;
            a->sin_port = htons((uint16_t)port);
            alen[i] = inet_pton(AF_INET, host, &a->sin_addr) == 1 ? sizeof(*a) : 0;
        }
    }
    Py_DECREF(fast);
    *paddr = addr;
    *palen = alen;
    *pn = (int)n;
    return 0;
}

/* plain_listen(lfd, key, balancer, servers, idle, fin_idle): accept on `lfd` here.
   servers: per index of the balancer's pool, (host, port, v6) or None (never connected
   here: its streams are handed to Python). */
static PyObject *Pump_plain_listen(Pump *self, PyObject *args) {
    int lfd, key;
    PyObject *bal, *servers;
    double idle, fin_idle;
    if (!PyArg_ParseTuple(args, "iiO!Odd", &lfd, &key, &BalancerType, &bal, &servers, &idle,
                          &fin_idle)) {
        return NULL;
    }
    if (self->plain_cb == NULL) {
        PyErr_SetString(PyExc_ValueError, "plain listeners need a `plain` callback");
        return NULL;
    }
    if (lfd < 0 || plain_of_key(self, key) != NULL) {
        PyErr_SetString(PyExc_ValueError, "a listening descriptor and a new key");
        return NULL;
    }
    struct sockaddr_storage *addr;
    socklen_t *alen;
    int n;
    if (plain_addresses(servers, &addr, &alen, &n) < 0) {
        return NULL;
    }
    Plain *plains = PyMem_Realloc(self->plains, (size_t)(self->nplains + 1) * sizeof(Plain));
    if (plains != NULL) {
        self->plains = plains;
    }
    if (plains == NULL || grow_slots(self, lfd) < 0) {
        PyMem_Free(addr);
        PyMem_Free(alen);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    Plain *p = &self->plains[self->nplains++];
    p->lfd = lfd;
    p->key = key;
    p->accepting = 1;
    Py_INCREF(bal);
    p->bal = bal;
    p->nsrv = (int)n;
    p->addr = addr;
    p->alen = alen;
    p->avail = 0;
    p->idle = idle;
    p->fin_idle = fin_idle;
    p->http = 0;
    p->hlive = -1;
    p->t_first = p->t_ka = p->t_server = p->t_client = 0.0;
    p->pools = NULL;
    p->npools = p->gen = 0;
    p->purge_delay = 0.0;
    p->sopened = p->sclosed = 0;
    p->h1conf = NULL;
    p->tallied = 0;
    Slot *l = &self->slots[lfd];
    l->peer = lfd; /* the dispatch's "handled here first" mark */
    l->mode = MODE_LISTEN;
    l->plain = self->nplains;
    Py_RETURN_NONE;
}

/* plain_stop(key): accept no more on its listener (its streams run on). */
static PyObject *Pump_plain_stop(Pump *self, PyObject *args) {
    int key;
    if (!PyArg_ParseTuple(args, "i", &key)) {
        return NULL;
    }
    Plain *p = plain_of_key(self, key);
    if (p != NULL && p->accepting) {
        p->accepting = 0;
        Slot *l = &self->slots[p->lfd];
        if (l->mode == MODE_LISTEN && l->plain == (int)(p - self->plains) + 1) {
            l->peer = -1;
            l->mode = 0;
            l->plain = 0;
        }
    }
    Py_RETURN_NONE;
}

/* plain_room(key, avail, gavail): how many streams C may start on this listener and on
   all before Python counts again (key -1: only the latter). */
static PyObject *Pump_plain_room(Pump *self, PyObject *args) {
    int key;
    Py_ssize_t avail, gavail;
    if (!PyArg_ParseTuple(args, "inn", &key, &avail, &gavail)) {
        return NULL;
    }
    Plain *p = key >= 0 ? plain_of_key(self, key) : NULL;
    if (p != NULL) {
        p->avail = avail;
    }
    self->gavail = gavail;
    Py_RETURN_NONE;
}

/* A server index of the old list in the new one (remap[old], -1: gone). */
static int plain_remapped(const int *remap, int nold, int i) {
    return i >= 0 && i < nold ? remap[i] : -1;
}

static void h1own_remap(Pump *self, Plain *p, const int *remap, int nold); /* _h1own.h */

/* The streams in flight take their servers' new indexes (a server removed before them
   moved them down): their records must name the server they went to. */
static int plain_remap(Pump *self, Plain *p, PyObject *seq) {
    Py_ssize_t nold = PySequence_Fast_GET_SIZE(seq);
    int *remap = PyMem_Malloc((size_t)(nold ? nold : 1) * sizeof(int));
    if (remap == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < nold; i++) {
        remap[i] = (int)PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, i));
    }
    if (PyErr_Occurred()) {
        PyMem_Free(remap);
        return -1;
    }
    int k = (int)(p - self->plains) + 1;
    for (int fd = self->plive; fd >= 0; fd = self->slots[fd].lnext) {
        Slot *c = &self->slots[fd];
        if (c->plain == k) {
            c->srv = plain_remapped(remap, (int)nold, c->srv);
        }
    }
    if (p->http) {
        h1own_remap(self, p, remap, (int)nold);
    }
    PyMem_Free(remap);
    return 0;
}

/* plain_servers(key, servers[, remap]): the pool's servers changed (added, removed): their
   addresses again, by the new indexes; `remap[old index]` is a server's new index (-1:
   removed) for the streams in flight. */
static PyObject *Pump_plain_servers(Pump *self, PyObject *args) {
    int key, n;
    PyObject *servers, *remap = Py_None;
    struct sockaddr_storage *addr;
    socklen_t *alen;
    if (!PyArg_ParseTuple(args, "iO|O", &key, &servers, &remap)) {
        return NULL;
    }
    Plain *p = plain_of_key(self, key);
    if (p == NULL) {
        PyErr_SetString(PyExc_ValueError, "no such plain listener");
        return NULL;
    }
    if (remap != Py_None) {
        PyObject *seq = PySequence_Fast(remap, "remap must be a sequence");
        if (seq == NULL) {
            return NULL;
        }
        int r = plain_remap(self, p, seq);
        Py_DECREF(seq);
        if (r < 0) {
            return NULL;
        }
    }
    if (plain_addresses(servers, &addr, &alen, &n) < 0) {
        return NULL;
    }
    PyMem_Free(p->addr);
    PyMem_Free(p->alen);
    p->addr = addr;
    p->alen = alen;
    p->nsrv = n;
    if (p->http) {
        h1pool_reset(self, p); /* the indexes moved: their idle connections close */
    }
    Py_RETURN_NONE;
}

/* plain_take() -> the records not yet handed over (None: none). */
static PyObject *Pump_plain_take(Pump *self, PyObject *Py_UNUSED(ignored)) {
    h1tally_flush(self);
    PyObject *recs = self->precs;
    self->precs = NULL;
    if (recs == NULL) {
        Py_RETURN_NONE;
    }
    return recs;
}

/* End the plain stream of `cfd` now, both sides reset. */
static void plain_kill_one(Pump *self, int cfd, int how) {
    Slot *c = &self->slots[cfd];
    int sfd = c->peer;
    Slot *s = &self->slots[sfd];
    unsigned long long cp = c->pkts, cb = c->bytes, spk = s->pkts, sb = s->bytes;
    sp_detach(self, cfd, sfd);
    s->plain = 0;
    plain_ended(self, cfd, how, cp, cb, spk, sb);
    reset_close(cfd);
    reset_close(sfd);
}

/* plain_kill(key, server): end the streams of a listener (key -1: of every listener), of
   one server (-1: all); how many. */
static PyObject *Pump_plain_kill(Pump *self, PyObject *args) {
    int key, srv;
    if (!PyArg_ParseTuple(args, "ii", &key, &srv)) {
        return NULL;
    }
    int n = 0;
    for (int fd = self->plive; fd >= 0;) {
        Slot *c = &self->slots[fd];
        int next = c->lnext;
        if ((key < 0 || self->plains[c->plain - 1].key == key) && (srv < 0 || c->srv == srv)) {
            plain_kill_one(self, fd, PLAIN_KILLED);
            n++;
        }
        fd = next;
    }
    return PyLong_FromLong(n);
}

/* plain_kill_one(cfd): end one plain stream; False if `cfd` is not one. */
static PyObject *Pump_plain_end(Pump *self, PyObject *args) {
    int cfd;
    if (!PyArg_ParseTuple(args, "i", &cfd)) {
        return NULL;
    }
    if (cfd < 0 || cfd >= self->nslots || self->slots[cfd].plain == 0 ||
        self->slots[cfd].mode != MODE_SPLICE || !self->slots[cfd].client) {
        Py_RETURN_FALSE;
    }
    plain_kill_one(self, cfd, PLAIN_KILLED);
    Py_RETURN_TRUE;
}

/* plain_sweep() -> live plain streams left: ends those idle past their timeout. */
static PyObject *Pump_plain_sweep(Pump *self, PyObject *Py_UNUSED(ignored)) {
    double now = monotonic_now();
    int live = 0;
    h1own_sweep(self, now);
    for (int fd = self->plive; fd >= 0;) {
        Slot *c = &self->slots[fd];
        Slot *s = &self->slots[c->peer];
        int next = c->lnext;
        Plain *p = &self->plains[c->plain - 1];
        double last = c->last > s->last ? c->last : s->last;
        double limit = (c->eof || s->eof) ? p->fin_idle : p->idle;
        if (now - last >= limit) {
            plain_kill_one(self, fd, PLAIN_EXPIRED);
        } else {
            live++;
        }
        fd = next;
    }
    return PyLong_FromLong(live);
}

/* plain_list(key) -> [(cfd, sfd, server, age in seconds)] of a listener's live streams. */
static PyObject *Pump_plain_list(Pump *self, PyObject *args) {
    int key;
    if (!PyArg_ParseTuple(args, "i", &key)) {
        return NULL;
    }
    PyObject *list = PyList_New(0);
    double now = monotonic_now();
    for (int fd = self->plive; list != NULL && fd >= 0; fd = self->slots[fd].lnext) {
        Slot *c = &self->slots[fd];
        if (self->plains[c->plain - 1].key != key) {
            continue;
        }
        PyObject *item = Py_BuildValue("iiid", fd, c->peer, c->srv, now - c->born);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(item);
    }
    return list;
}

/* plain_callback(cb): cb(records) gets each round's records (see the top of _accept.h). */
static PyObject *Pump_plain_callback(Pump *self, PyObject *cb) {
    if (!PyCallable_Check(cb)) {
        PyErr_SetString(PyExc_TypeError, "the plain callback must be callable");
        return NULL;
    }
    Py_INCREF(cb);
    Py_XSETREF(self->plain_cb, cb);
    Py_RETURN_NONE;
}

/* End of a round: the records go to Python. */
static void plain_deliver(Pump *self) {
    h1tally_flush(self);
    if (self->precs == NULL || self->plain_cb == NULL) {
        return;
    }
    PyObject *recs = self->precs;
    self->precs = NULL;
    PyObject *res = PyObject_CallOneArg(self->plain_cb, recs);
    Py_DECREF(recs);
    if (res == NULL) {
        report_error(self, -1);
    }
    Py_XDECREF(res);
}

static int plain_traverse(Pump *self, visitproc visit, void *arg) {
    Py_VISIT(self->plain_cb);
    Py_VISIT(self->precs);
    for (int i = 0; i < self->nplains; i++) {
        Py_VISIT(self->plains[i].bal);
    }
    return 0;
}

static void plain_free(Pump *self) {
    for (int i = 0; i < self->nplains; i++) {
        Py_CLEAR(self->plains[i].bal);
        PyMem_Free(self->plains[i].addr);
        PyMem_Free(self->plains[i].alen);
        PyMem_Free(self->plains[i].pools);
        PyMem_Free(self->plains[i].h1conf);
    }
    PyMem_Free(self->plains);
    self->plains = NULL;
    self->nplains = 0;
    Py_CLEAR(self->precs);
    Py_CLEAR(self->plain_cb);
}

#endif
