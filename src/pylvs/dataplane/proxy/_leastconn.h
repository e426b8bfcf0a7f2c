/*
 * _balance.h's other picks: HAProxy 2.6's leastconn (src/lb_fwlc.c fwlc_get_next_server,
 * fwlc_srv_reposition) and first (src/lb_fas.c fas_get_next_server), with server `maxconn`,
 * over the same kind of mirror as roundrobin's (dataplane/haproxy/cbalance.py).
 *
 * Why a second header: these picks read live counts (each server's connections and queue),
 * which roundrobin's never do.  The mirror holds them: `served` counts the pool's connections
 * plus the picks made here that Python has not taken yet (`untaken`: the plain listeners'
 * records and the sessions take them a little later), so a burst of accepts between two
 * rounds of records sees every pick before it.  Python tells the mirror of every take and
 * release (`taken`, `dropped`) and queue change (`queued`); the mirror repositions the
 * server itself, as fwlc_srv_reposition does, so its tree is the one Python pulls back
 * before it picks or changes anything (the Python pool's own tree waits until then).
 *
 * The active group's tree is kept as (key, seq) per server: the eb32 key (leastconn:
 * (inflight + 1) * SRV_EWGHT_MAX / eweight, 0 when idle; first: the server's id) and the
 * order of insertion among equal keys (a repositioned server goes after its equals).  A pick
 * walks it in that order, as first_fit does, taking the first server with room: no maxconn,
 * or an empty queue and fewer connections than its maxconn.  It answers -1, moving nothing,
 * when the answer needs Python: no active server (the backup rules), a candidate whose limit
 * is dynamic (minconn below maxconn, slowstart; `limit` -1), a leastconn candidate that is
 * full but whose queue has room (Python queues the stream on it), or nothing with room (the
 * backend queue).
 *
 * Included by _balance.h after its Balancer type: one compilation unit.
 */
#ifndef PYLVS_LEASTCONN_H
#define PYLVS_LEASTCONN_H

/* fwlc_queue_srv's key: the load per weight unit, 0 when idle (HAProxy 2.6's formula). */
static uint32_t lc_key(const BalServer *s) {
    int64_t inflight = s->served + s->queued;
    int64_t eweight = s->cur_eweight ? s->cur_eweight : 1;
    return inflight ? (uint32_t)((inflight + 1) * SRV_EWGHT_MAX / eweight) : 0;
}

/* fwlc_srv_reposition / fas_srv_reposition: a new key goes after its equals. */
static void lc_reposition(Balancer *b, int i) {
    BalServer *s = &b->srv[i];
    if (!s->in_tree) {
        return;
    }
    if (b->kind == BAL_FIRST) {
        s->seq = b->seq_next++; /* unlinked and queued again at its id */
        return;
    }
    uint32_t key = lc_key(s);
    if (key != s->key) {
        s->key = key;
        s->seq = b->seq_next++;
    }
}

/* Whether s comes before t in the tree. */
static int lc_before(const BalServer *s, const BalServer *t) {
    return s->key < t->key || (s->key == t->key && s->seq < t->seq);
}

/* What a candidate says: 1 take it, 0 full (walk on), -1 Python must decide. */
static int lc_fits(const Balancer *b, const BalServer *s) {
    if (s->limit < 0) {
        return -1;
    }
    if (!s->limit || (!s->queued && s->served < s->limit)) {
        return 1;
    }
    if (b->kind == BAL_LEASTCONN && s->served + s->queued < s->limit + s->maxqueue) {
        return -1; /* fwlc takes it and the stream waits in its queue: Python's */
    }
    return 0;
}

static int lc_pick(Balancer *b) {
    if (!b->srv_act) {
        return -1;
    }
    /* The first server in tree order that fits or needs Python: one pass. */
    int best = -1;
    for (int i = 0; i < b->nsrv; i++) {
        BalServer *s = &b->srv[i];
        if (s->in_tree && lc_fits(b, s) != 0 && (best < 0 || lc_before(s, &b->srv[best]))) {
            best = i;
        }
    }
    if (best < 0 || lc_fits(b, &b->srv[best]) < 0) {
        return -1;
    }
    BalServer *s = &b->srv[best];
    s->served++;
    s->untaken++;
    lc_reposition(b, best);
    return best;
}

/* load's group for leastconn / first: (srv_act, tree, live); tree [(key, index)] in tree
   order; live [(served, queued, untaken, limit, maxqueue)] per server. */
static int lc_load(Balancer *b, PyObject *group) {
    PyObject *tree, *live;
    if (!PyArg_ParseTuple(group, "iOO", &b->srv_act, &tree, &live)) {
        return -1;
    }
    PyObject *lf = PySequence_Fast(live, "live must be a sequence");
    if (lf == NULL) {
        return -1;
    }
    if (PySequence_Fast_GET_SIZE(lf) != b->nsrv) {
        Py_DECREF(lf);
        PyErr_SetString(PyExc_ValueError, "one live row per server");
        return -1;
    }
    for (int i = 0; i < b->nsrv; i++) {
        BalServer *s = &b->srv[i];
        long long served, queued, untaken, limit, maxqueue;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(lf, i), "LLLLL", &served, &queued,
                              &untaken, &limit, &maxqueue)) {
            Py_DECREF(lf);
            return -1;
        }
        s->served = served;
        s->queued = queued;
        s->untaken = untaken;
        s->limit = limit;
        s->maxqueue = maxqueue;
    }
    Py_DECREF(lf);
    PyObject *tf = PySequence_Fast(tree, "a tree is a sequence of (key, index)");
    if (tf == NULL) {
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(tf);
    for (Py_ssize_t k = 0; k < n; k++) {
        unsigned int key;
        int idx;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(tf, k), "Ii", &key, &idx)) {
            Py_DECREF(tf);
            return -1;
        }
        if (idx < 0 || idx >= b->nsrv || b->srv[idx].in_tree) {
            Py_DECREF(tf);
            PyErr_SetString(PyExc_ValueError, "tree entry out of range");
            return -1;
        }
        b->srv[idx].in_tree = 1;
        b->srv[idx].key = key;
        b->srv[idx].seq = (uint64_t)k;
    }
    Py_DECREF(tf);
    b->seq_next = (uint64_t)n;
    return 0;
}

/* The tree's order of the servers in `order` (few: an insertion sort). */
static void lc_sort(Balancer *b, int *order, int n) {
    for (int k = 1; k < n; k++) {
        int v = order[k], j = k;
        while (j > 0 && lc_before(&b->srv[v], &b->srv[order[j - 1]])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

/* dump's answer for leastconn / first: (tree [(key, index)] in tree order, [untaken]). */
static PyObject *lc_dump(Balancer *b) {
    int *order = PyMem_Calloc(b->nsrv ? (size_t)b->nsrv : 1, sizeof(int));
    if (order == NULL) {
        return PyErr_NoMemory();
    }
    int n = 0;
    for (int i = 0; i < b->nsrv; i++) {
        if (b->srv[i].in_tree) {
            order[n++] = i;
        }
    }
    lc_sort(b, order, n);
    PyObject *tree = PyList_New(n);
    PyObject *untaken = PyList_New(b->nsrv);
    for (int k = 0; tree != NULL && k < n; k++) {
        PyObject *item = Py_BuildValue("Ii", b->srv[order[k]].key, order[k]);
        if (item == NULL) {
            Py_CLEAR(tree);
            break;
        }
        PyList_SET_ITEM(tree, k, item);
    }
    for (int i = 0; untaken != NULL && i < b->nsrv; i++) {
        PyObject *v = PyLong_FromLongLong((long long)b->srv[i].untaken);
        if (v == NULL) {
            Py_CLEAR(untaken);
            break;
        }
        PyList_SET_ITEM(untaken, i, v);
    }
    PyMem_Free(order);
    if (tree == NULL || untaken == NULL) {
        Py_XDECREF(tree);
        Py_XDECREF(untaken);
        return NULL;
    }
    return Py_BuildValue("NN", tree, untaken);
}

/* taken(i, queued) / taken_own(i, queued) / dropped(i, queued) / queued(i, queued): what
   Python did to server i (a take that follows a pick made here, or one of its own picks). */
static PyObject *lc_told(BalancerObject *self, PyObject *args, int what) {
    Balancer *b = &self->b;
    int i;
    long long queued;
    if (!PyArg_ParseTuple(args, "iL", &i, &queued)) {
        return NULL;
    }
    if (b->kind != BAL_LEASTCONN && b->kind != BAL_FIRST) {
        PyErr_SetString(PyExc_ValueError, "not a leastconn or first mirror");
        return NULL;
    }
    if (i < 0 || i >= b->nsrv) {
        PyErr_SetString(PyExc_IndexError, "no such server");
        return NULL;
    }
    BalServer *s = &b->srv[i];
    s->queued = queued;
    if (what == 0 && s->untaken > 0) { /* taken: one of the picks made here */
        s->untaken--;                    /* already counted and repositioned by the pick */
        b->picks++;                      /* Python's copy of `untaken` is stale */
        Py_RETURN_NONE;
    }
    if (what == 0 || what == 3) { /* taken_own: one Python picked */
        s->served++;
    } else if (what == 1) { /* dropped */
        s->served--;
    } else {
        Py_RETURN_NONE; /* queued: no reposition (HAProxy's takes and releases do it) */
    }
    lc_reposition(b, i);
    b->picks++; /* the tree moved: Python pulls it back before it reads its own */
    Py_RETURN_NONE;
}

static PyObject *BalancerObject_taken(BalancerObject *self, PyObject *args) {
    return lc_told(self, args, 0);
}

static PyObject *BalancerObject_taken_own(BalancerObject *self, PyObject *args) {
    return lc_told(self, args, 3);
}

static PyObject *BalancerObject_dropped(BalancerObject *self, PyObject *args) {
    return lc_told(self, args, 1);
}

static PyObject *BalancerObject_queued(BalancerObject *self, PyObject *args) {
    return lc_told(self, args, 2);
}

#endif
