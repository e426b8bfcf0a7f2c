/*
 * _pump.c's HTTP listeners (_h1own.h): what a listener's exchanges log and add, set once by
 * `h1_listen(..., log, adds)` (dataplane/haproxy/http/own.py, own_facts.py).
 *
 * `log`: each served exchange's record carries its log facts (2: and the response's head,
 * for `capture response header`).  `adds`: the fields of `option forwardfor` and `option
 * originalto` without `if-none` (src/http_ana.c http_process_request, steps 9 and 10), the
 * same on every request of a connection: written once per client at its accept, with the
 * client's address (forwardfor) or the listener's (originalto) as inet_ntop writes it,
 * unless the address is in an `except` network of the frontend's or the backend's option
 * (http/added.py's rules).  The client's and the listener's addresses are kept as text for
 * the log records (%ci, %fi).
 *
 * Included by _pump.c after _http1.h, before _h1own.h: one compilation unit.
 */
#ifndef PYLVS_H1CONF_H
#define PYLVS_H1CONF_H

#define H1_ADDS 2 /* forwardfor, originalto */
#define H1_NETS 2 /* an `except` network of the frontend's option, of the backend's */

typedef struct H1Net {
    int family;
    unsigned char addr[16];
    int prefix;
} H1Net;

typedef struct H1Add {
    char name[64];  /* the header's name, lower case */
    size_t nlen;
    int dst;        /* 0: the client's address (forwardfor), 1: the listener's (originalto) */
    int nnets;
    H1Net nets[H1_NETS];
} H1Add;

typedef struct H1Conf {
    int log;        /* each exchange's record carries its log facts (2: and the
                       response's head, for `capture response header`) */
    int nadds;
    H1Add adds[H1_ADDS];
} H1Conf;

/* The address is in the network (an `except`: same family, the prefix's bits equal). */
static int h1_in_net(const struct sockaddr_storage *a, const H1Net *net) {
    const unsigned char *b;
    if (a->ss_family != net->family) {
        return 0;
    }
    if (a->ss_family == AF_INET) {
        b = (const unsigned char *)&((const struct sockaddr_in *)a)->sin_addr;
    } else {
        b = (const unsigned char *)&((const struct sockaddr_in6 *)a)->sin6_addr;
    }
    int bits = net->prefix;
    for (int i = 0; bits > 0; i++, bits -= 8) {
        unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
        if ((b[i] & mask) != (net->addr[i] & mask)) {
            return 0;
        }
    }
    return 1;
}

static int h1_text(const struct sockaddr_storage *a, char *out, int *port) {
    const void *raw;
    if (a->ss_family == AF_INET) {
        raw = &((const struct sockaddr_in *)a)->sin_addr;
        *port = ntohs(((const struct sockaddr_in *)a)->sin_port);
    } else if (a->ss_family == AF_INET6) {
        raw = &((const struct sockaddr_in6 *)a)->sin6_addr;
        *port = ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
    } else {
        return -1;
    }
    return inet_ntop(a->ss_family, raw, out, 48) == NULL ? -1 : 0;
}

/* The client's addresses as text, and the fields every request of it gets (http/added.py:
   the address unless it is in an `except` network); -1 when they cannot be had. */
static int h1own_who(H1 *h1, const H1Conf *conf, int cfd) {
    struct sockaddr_storage peer, local;
    socklen_t plen = sizeof(peer), llen = sizeof(local);
    if (getpeername(cfd, (struct sockaddr *)&peer, &plen) < 0 ||
        getsockname(cfd, (struct sockaddr *)&local, &llen) < 0 ||
        h1_text(&peer, h1->src, &h1->sport) < 0 || h1_text(&local, h1->dst, &h1->dport) < 0) {
        return -1;
    }
    h1->log = conf->log;
    size_t room = 0;
    for (int k = 0; k < conf->nadds; k++) {
        room += conf->adds[k].nlen + 48 + 4;
    }
    if (room == 0) {
        return 0;
    }
    if ((h1->add = PyMem_Malloc(room)) == NULL) {
        return -1;
    }
    char *o = h1->add;
    for (int k = 0; k < conf->nadds; k++) {
        const H1Add *a = &conf->adds[k];
        const struct sockaddr_storage *addr = a->dst ? &local : &peer;
        int out = 0;
        for (int i = 0; i < a->nnets; i++) {
            out |= h1_in_net(addr, &a->nets[i]);
        }
        if (out) {
            continue;
        }
        const char *text = a->dst ? h1->dst : h1->src;
        memcpy(o, a->name, a->nlen);
        o += a->nlen;
        *o++ = ':';
        *o++ = ' ';
        memcpy(o, text, strlen(text));
        o += strlen(text);
        *o++ = '\r';
        *o++ = '\n';
    }
    h1->alen = (size_t)(o - h1->add);
    return 0;
}

/* h1_listen's `adds`: ((name, dst, ((family, packed address, prefix), ...)), ...). */
static int h1own_conf(H1Conf *conf, int log, PyObject *adds) {
    conf->log = log;
    conf->nadds = 0;
    Py_ssize_t n = adds == NULL ? 0 : PySequence_Size(adds);
    if (n < 0 || n > H1_ADDS) {
        PyErr_SetString(PyExc_ValueError, "at most two added fields");
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        H1Add *a = &conf->adds[k];
        PyObject *item = PySequence_GetItem(adds, k);
        const char *name;
        Py_ssize_t nlen;
        PyObject *nets;
        int ok = item != NULL && PyArg_ParseTuple(item, "y#iO", &name, &nlen, &a->dst, &nets);
        Py_XDECREF(item);
        if (!ok) {
            return -1;
        }
        Py_ssize_t nn = PySequence_Size(nets);
        if (nlen <= 0 || nlen >= (Py_ssize_t)sizeof(a->name) || nn < 0 || nn > H1_NETS) {
            PyErr_SetString(PyExc_ValueError, "a bad added field");
            return -1;
        }
        memcpy(a->name, name, (size_t)nlen);
        a->nlen = (size_t)nlen;
        a->nnets = (int)nn;
        for (Py_ssize_t i = 0; i < nn; i++) {
            H1Net *net = &a->nets[i];
            const char *raw;
            Py_ssize_t rlen;
            PyObject *t = PySequence_GetItem(nets, i);
            ok = t != NULL && PyArg_ParseTuple(t, "iy#i", &net->family, &raw, &rlen, &net->prefix);
            Py_XDECREF(t);
            if (!ok || rlen > 16 || net->prefix > rlen * 8) {
                if (ok) {
                    PyErr_SetString(PyExc_ValueError, "a bad network");
                }
                return -1;
            }
            memset(net->addr, 0, sizeof(net->addr));
            memcpy(net->addr, raw, (size_t)rlen);
        }
        conf->nadds++;
    }
    return 0;
}

#endif
