/*
 * _pump.c's balancer: HAProxy's roundrobin (src/lb_fwrr.c fwrr_get_next_server) and
 * static-rr (src/lb_map.c map_get_server_rr) picks in C, over a mirror of a Python
 * `sched.haproxy.Pool`'s state.
 *
 * Why a mirror: the pool (pure Python, pylvs.sched.haproxy) stays the one implementation of
 * every state change (checks, `set server`, `set weight`, drain/maint, slowstart, added and
 * removed servers); the C side only repeats its commonest move, the pick, on a copy of the
 * data the pick reads and writes.  Python pushes the state after every change (`load`,
 * dataplane/haproxy/cbalance.py builds it from the pool) and takes back what the C picks
 * moved (`dump`) before it touches the pool itself, so the pick order is HAProxy's exactly
 * (tests/unit/dataplane/haproxy/test_cbalance.py replays the real haproxy's recorded
 * sequences both ways).
 *
 * What a C pick covers: the active group of roundrobin (a server due in the current window,
 * else the head of `init`, the trees switched once when both are empty) and static-rr's map
 * walk, for a server without `maxconn` (never saturated).  Anything else (no active server,
 * a candidate with maxconn, nothing to pick) answers -1 *before* moving anything, so the
 * caller picks in Python on the same state and gets what HAProxy would.
 *
 * The C interface (for other pump engines, e.g. an HTTP fast path):
 *     int bal_pick(Balancer *b);   -> the server's index in the pool's list, or -1
 *     b->picks                     -> picks since the last load/dump (0: nothing to take back)
 * Python: _pump.Balancer().load(state), .pick(), .dump(), .picks.
 *
 * leastconn and first (with server maxconn) are _leastconn.h's: their picks read live counts,
 * which that mirror keeps (see there).
 *
 * Included by _pump.c: one compilation unit.
 */
#ifndef PYLVS_BALANCE_H
#define PYLVS_BALANCE_H

#include <stdint.h>

#define BAL_ROUNDROBIN 0
#define BAL_STATIC_RR 1
#define BAL_LEASTCONN 2 /* _leastconn.h */
#define BAL_FIRST 3

#define FW_NONE 0 /* a server's tree: none, or one of the active group's three */
#define FW_CURR 1
#define FW_INIT 2
#define FW_NEXT 3

#define SRV_EWGHT_MAX 4096 /* SRV_UWGHT_MAX * BE_WEIGHT_SCALE */
#define SRV_UWGHT_RANGE 256
#define BE_WEIGHT_SCALE 16

typedef struct {
    int64_t cur_eweight, next_eweight;
    int64_t npos, lpos, rweight;
    int maxconn; /* non-zero: its room depends on live counts; Python picks it */
    int usable;  /* srv_willbe_usable at the last load */
    int tree;    /* FW_* */
    /* leastconn / first (_leastconn.h): live counts, the limit, the place in the tree */
    int64_t served, queued, untaken, limit, maxqueue;
    uint32_t key;
    uint64_t seq;
    int in_tree;
} BalServer;

typedef struct { /* an eb32 tree of few nodes: sorted, a new key after its equals */
    uint32_t *keys;
    int *idx;
    int n;
} BalTree;

typedef struct {
    int kind;
    int nsrv;
    BalServer *srv;
    uint64_t picks;
    /* roundrobin: the active group (struct fwrr_group) and whether it is in use */
    int srv_act;
    int64_t curr_pos, curr_weight, next_weight;
    BalTree t[4]; /* [FW_CURR], [FW_INIT], [FW_NEXT] */
    /* static-rr: the map */
    int64_t tot_weight, rr_idx;
    int *slots;
    /* leastconn / first: the next insertion's rank among equal keys */
    uint64_t seq_next;
} Balancer;

static void bt_insert(BalTree *t, uint32_t key, int idx) {
    int i = t->n;
    while (i > 0 && t->keys[i - 1] > key) {
        i--;
    }
    memmove(t->keys + i + 1, t->keys + i, (size_t)(t->n - i) * sizeof(uint32_t));
    memmove(t->idx + i + 1, t->idx + i, (size_t)(t->n - i) * sizeof(int));
    t->keys[i] = key;
    t->idx[i] = idx;
    t->n++;
}

static void bt_delete(BalTree *t, int idx) {
    for (int i = 0; i < t->n; i++) {
        if (t->idx[i] == idx) {
            memmove(t->keys + i, t->keys + i + 1, (size_t)(t->n - i - 1) * sizeof(uint32_t));
            memmove(t->idx + i, t->idx + i + 1, (size_t)(t->n - i - 1) * sizeof(int));
            t->n--;
            return;
        }
    }
}

static void bal_free(Balancer *b) {
    PyMem_Free(b->srv);
    for (int i = 1; i < 4; i++) {
        PyMem_Free(b->t[i].keys);
        PyMem_Free(b->t[i].idx);
    }
    PyMem_Free(b->slots);
    memset(b, 0, sizeof(*b));
}

/* fwrr_queue_by_weight into `init` or `next`. */
static void fw_by_weight(Balancer *b, int which, int i) {
    bt_insert(&b->t[which], (uint32_t)(SRV_EWGHT_MAX - b->srv[i].next_eweight), i);
    b->srv[i].tree = which;
}

/* fwrr_queue_srv */
static void fw_queue(Balancer *b, int i) {
    BalServer *s = &b->srv[i];
    if (!s->usable) {
        s->tree = FW_NONE;
    } else if (s->next_eweight <= 0 || s->npos >= 2 * b->curr_weight ||
               s->npos >= b->curr_weight + b->next_weight) {
        s->npos -= b->curr_weight;
        fw_by_weight(b, FW_NEXT, i);
    } else {
        int64_t key = SRV_UWGHT_RANGE * s->npos +
                      (SRV_EWGHT_MAX + s->rweight - s->next_eweight) / BE_WEIGHT_SCALE;
        bt_insert(&b->t[FW_CURR], (uint32_t)key, i);
        s->tree = FW_CURR;
    }
}

/* fwrr_get_server_from_group, without its write to the init head (the caller does it). */
static int fw_from_group(Balancer *b, int *from_init) {
    int s1 = -1;
    *from_init = 0;
    if (b->t[FW_CURR].n) {
        s1 = b->t[FW_CURR].idx[0];
        if (b->srv[s1].cur_eweight && b->srv[s1].npos <= b->curr_pos) {
            return s1;
        }
    }
    if (b->t[FW_INIT].n) {
        int s2 = b->t[FW_INIT].idx[0];
        if (b->srv[s2].cur_eweight) {
            *from_init = 1;
            return s2;
        }
    }
    return s1;
}

static void fw_switch(Balancer *b) {
    BalTree t = b->t[FW_INIT];
    b->t[FW_INIT] = b->t[FW_NEXT];
    b->t[FW_NEXT] = t;
    for (int i = 0; i < b->nsrv; i++) {
        if (b->srv[i].tree == FW_INIT) {
            b->srv[i].tree = FW_NEXT;
        } else if (b->srv[i].tree == FW_NEXT) {
            b->srv[i].tree = FW_INIT;
        }
    }
    b->curr_weight = b->next_weight;
    b->curr_pos = b->curr_weight;
}

static int fw_pick(Balancer *b) {
    if (!b->srv_act) {
        return -1; /* the backup group's rules: Python's */
    }
    if (!b->curr_weight) {
        b->curr_pos = b->curr_weight = b->next_weight; /* as the pick's loop starts */
    }
    int64_t pos = b->curr_pos, weight = b->curr_weight;
    int from_init, switched = 0;
    int i = fw_from_group(b, &from_init);
    if (i < 0) {
        fw_switch(b);
        switched = 1;
        i = fw_from_group(b, &from_init);
    }
    if (i < 0 || b->srv[i].maxconn) {
        if (switched) { /* undone: Python's loop switches the same way */
            fw_switch(b);
            b->curr_pos = pos;
            b->curr_weight = weight;
        }
        return -1;
    }
    BalServer *s = &b->srv[i];
    if (from_init) {
        s->npos = s->rweight = 0;
    }
    /* fwrr_update_position */
    int64_t eweight = s->cur_eweight;
    if (eweight) {
        if (!s->npos) {
            s->npos = b->curr_pos;
        }
        s->lpos = s->npos;
        s->npos += b->next_weight / eweight;
        s->rweight += b->next_weight % eweight;
        if (s->rweight >= eweight) {
            s->rweight -= eweight;
            s->npos += 1;
        }
    }
    bt_delete(&b->t[s->tree], i);
    s->tree = FW_NONE;
    b->curr_pos += 1;
    fw_queue(b, i);
    return i;
}

static int map_pick(Balancer *b) {
    if (b->tot_weight <= 0) {
        return -1;
    }
    if (b->rr_idx < 0 || b->rr_idx >= b->tot_weight) {
        b->rr_idx = 0;
    }
    int i = b->slots[b->rr_idx];
    if (i < 0 || b->srv[i].maxconn) {
        return -1;
    }
    b->rr_idx += 1;
    return i;
}

static int lc_pick(Balancer *b); /* _leastconn.h, included below */

/* The server for a new connection (its index in the pool's list), or -1: pick in Python. */
static int bal_pick(Balancer *b) {
    if (b->srv == NULL) {
        return -1;
    }
    int i = b->kind == BAL_ROUNDROBIN ? fw_pick(b) : b->kind == BAL_STATIC_RR ? map_pick(b) : -2;
    if (i == -2) {
        i = lc_pick(b);
    }
    if (i >= 0) {
        b->picks++;
    }
    return i;
}

/* -- the Python type -------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    Balancer b;
} BalancerObject;

#include "_leastconn.h"

static void BalancerObject_dealloc(BalancerObject *self) {
    bal_free(&self->b);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int bal_tree_load(Balancer *b, int which, PyObject *seq) {
    PyObject *fast = PySequence_Fast(seq, "a tree is a sequence of (key, index)");
    if (fast == NULL) {
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    for (Py_ssize_t k = 0; k < n; k++) {
        unsigned int key;
        int idx;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, k), "Ii", &key, &idx)) {
            Py_DECREF(fast);
            return -1;
        }
        if (idx < 0 || idx >= b->nsrv || b->t[which].n >= b->nsrv) {
            Py_DECREF(fast);
            PyErr_SetString(PyExc_ValueError, "tree entry out of range");
            return -1;
        }
        b->t[which].keys[b->t[which].n] = key; /* given in tree order */
        b->t[which].idx[b->t[which].n++] = idx;
        b->srv[idx].tree = which;
    }
    Py_DECREF(fast);
    return 0;
}

static int bal_alloc(Balancer *b, int nsrv) {
    b->nsrv = nsrv;
    size_t n = nsrv ? (size_t)nsrv : 1;
    b->srv = PyMem_Calloc(n, sizeof(BalServer));
    int ok = b->srv != NULL;
    for (int i = 1; i < 4 && ok; i++) {
        b->t[i].keys = PyMem_Calloc(n, sizeof(uint32_t));
        b->t[i].idx = PyMem_Calloc(n, sizeof(int));
        ok = b->t[i].keys != NULL && b->t[i].idx != NULL;
    }
    if (!ok) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* load(kind, servers, group): the pool's state.  servers: [(cur_eweight, next_eweight, npos,
   lpos, rweight, maxconn, usable)] in the pool's order.  roundrobin's group: (srv_act,
   curr_pos, curr_weight, next_weight, curr, init, next), each tree [(key, index)] in tree
   order; static-rr's: (tot_weight, rr_idx, slots), slots the server indexes of the map. */
static PyObject *BalancerObject_load(BalancerObject *self, PyObject *args) {
    int kind;
    PyObject *servers, *group;
    if (!PyArg_ParseTuple(args, "iOO", &kind, &servers, &group)) {
        return NULL;
    }
    if (kind < BAL_ROUNDROBIN || kind > BAL_FIRST) {
        PyErr_SetString(PyExc_ValueError, "kind must be ROUNDROBIN, STATIC_RR, LEASTCONN or FIRST");
        return NULL;
    }
    PyObject *fast = PySequence_Fast(servers, "servers must be a sequence");
    if (fast == NULL) {
        return NULL;
    }
    Balancer *b = &self->b;
    bal_free(b);
    b->kind = kind;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n > 1000000 || bal_alloc(b, (int)n) < 0) {
        Py_DECREF(fast);
        bal_free(b);
        return n > 1000000 ? PyErr_Format(PyExc_ValueError, "too many servers") : NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        BalServer *s = &b->srv[i];
        long long ce, ne, np, lp, rw;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "LLLLLii", &ce, &ne, &np, &lp,
                              &rw, &s->maxconn, &s->usable)) {
            Py_DECREF(fast);
            bal_free(b);
            return NULL;
        }
        s->cur_eweight = ce;
        s->next_eweight = ne;
        s->npos = np;
        s->lpos = lp;
        s->rweight = rw;
    }
    Py_DECREF(fast);
    int ok;
    if (kind == BAL_ROUNDROBIN) {
        long long pos, cw, nw;
        PyObject *t1, *t2, *t3;
        ok = PyArg_ParseTuple(group, "iLLLOOO", &b->srv_act, &pos, &cw, &nw, &t1, &t2, &t3) &&
             bal_tree_load(b, FW_CURR, t1) == 0 && bal_tree_load(b, FW_INIT, t2) == 0 &&
             bal_tree_load(b, FW_NEXT, t3) == 0;
        b->curr_pos = pos;
        b->curr_weight = cw;
        b->next_weight = nw;
    } else if (kind == BAL_LEASTCONN || kind == BAL_FIRST) {
        ok = lc_load(b, group) == 0;
    } else {
        long long tot, idx;
        PyObject *slots;
        ok = PyArg_ParseTuple(group, "LLO", &tot, &idx, &slots);
        PyObject *sf = ok ? PySequence_Fast(slots, "slots must be a sequence") : NULL;
        ok = sf != NULL && PySequence_Fast_GET_SIZE(sf) >= tot && tot >= 0;
        if (ok) {
            b->tot_weight = tot;
            b->rr_idx = idx;
            b->slots = PyMem_Calloc(tot ? (size_t)tot : 1, sizeof(int));
            ok = b->slots != NULL;
            for (Py_ssize_t k = 0; ok && k < tot; k++) {
                long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(sf, k));
                ok = !(v == -1 && PyErr_Occurred()) && v >= -1 && v < n;
                b->slots[k] = (int)v;
            }
        }
        if (!ok && !PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "bad map");
        }
        Py_XDECREF(sf);
    }
    if (!ok) {
        bal_free(b);
        return NULL;
    }
    b->picks = 0;
    Py_RETURN_NONE;
}

static PyObject *bal_tree_dump(BalTree *t) {
    PyObject *list = PyList_New(t->n);
    for (int k = 0; list != NULL && k < t->n; k++) {
        PyObject *item = Py_BuildValue("Ii", t->keys[k], t->idx[k]);
        if (item == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, k, item);
    }
    return list;
}

/* dump() -> what the picks moved: roundrobin (curr_pos, curr_weight, curr, init, next,
   [(npos, lpos, rweight)]); static-rr (rr_idx,).  The pick count restarts at 0. */
static PyObject *BalancerObject_dump(BalancerObject *self, PyObject *Py_UNUSED(ignored)) {
    Balancer *b = &self->b;
    if (b->srv == NULL) {
        PyErr_SetString(PyExc_ValueError, "nothing loaded");
        return NULL;
    }
    b->picks = 0;
    if (b->kind == BAL_STATIC_RR) {
        return Py_BuildValue("(L)", (long long)b->rr_idx);
    }
    if (b->kind == BAL_LEASTCONN || b->kind == BAL_FIRST) {
        return lc_dump(b);
    }
    PyObject *pos = PyList_New(b->nsrv);
    for (int i = 0; pos != NULL && i < b->nsrv; i++) {
        BalServer *s = &b->srv[i];
        PyObject *item = Py_BuildValue("LLL", (long long)s->npos, (long long)s->lpos,
                                       (long long)s->rweight);
        if (item == NULL) {
            Py_CLEAR(pos);
            break;
        }
        PyList_SET_ITEM(pos, i, item);
    }
    if (pos == NULL) {
        return NULL;
    }
    return Py_BuildValue("LLNNNN", (long long)b->curr_pos, (long long)b->curr_weight,
                         bal_tree_dump(&b->t[FW_CURR]), bal_tree_dump(&b->t[FW_INIT]),
                         bal_tree_dump(&b->t[FW_NEXT]), pos);
}

static PyObject *BalancerObject_pick(BalancerObject *self, PyObject *Py_UNUSED(ignored)) {
    return PyLong_FromLong(bal_pick(&self->b));
}

static PyObject *BalancerObject_picks(BalancerObject *self, void *Py_UNUSED(closure)) {
    return PyLong_FromUnsignedLongLong(self->b.picks);
}

static PyMethodDef BalancerObject_methods[] = {
    {"load", (PyCFunction)BalancerObject_load, METH_VARARGS,
     "load(kind, servers, group): mirror a pool's state (see _balance.h)."},
    {"dump", (PyCFunction)BalancerObject_dump, METH_NOARGS,
     "dump() -> what the C picks moved since the last load (the pick count restarts)."},
    {"pick", (PyCFunction)BalancerObject_pick, METH_NOARGS,
     "pick() -> the index of the server picked, or -1: pick in Python (nothing moved)."},
    {"taken", (PyCFunction)BalancerObject_taken, METH_VARARGS,
     "taken(i, queued): server i took a connection (leastconn / first; _leastconn.h)."},
    {"taken_own", (PyCFunction)BalancerObject_taken_own, METH_VARARGS,
     "taken_own(i, queued): server i took a connection Python picked (leastconn / first)."},
    {"dropped", (PyCFunction)BalancerObject_dropped, METH_VARARGS,
     "dropped(i, queued): server i released a connection (leastconn / first)."},
    {"queued", (PyCFunction)BalancerObject_queued, METH_VARARGS,
     "queued(i, queued): server i's queue length changed (leastconn / first)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef BalancerObject_getset[] = {
    {"picks", (getter)BalancerObject_picks, NULL, "picks since the last load or dump", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject BalancerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pylvs.dataplane.proxy._pump.Balancer",
    .tp_basicsize = sizeof(BalancerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "HAProxy's roundrobin / static-rr picks over a mirror of a pool's state",
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)BalancerObject_dealloc,
    .tp_methods = BalancerObject_methods,
    .tp_getset = BalancerObject_getset,
};

#endif
