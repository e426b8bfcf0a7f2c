"""The CA files and certificates a HAProxy-mode runtime holds in memory, as the runtime API
shows and changes them (HAProxy 2.6 src/ssl_ckch.c: the cafile tree and its one
`cafile_transaction`, the ckch stores and their one `ckchs_transaction`;
`new|set|commit|abort|del|show ssl ca-file` and `... ssl cert`).

Pure: the runtime's TLS contexts (dataplane/haproxy/tls_contexts.py) record here what they
read from disk (`loaded`, `cert_loaded`, `cert_used`) and read committed files from here
first; a commit bumps `generation`, and contexts built from an older generation are rebuilt
at their next connection (HAProxy rebuilds the instances that use the file).  Whether a
certificate's key fits it is for the runtime to say (`pair_ok`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.proto import x509


@dataclass(frozen=True, slots=True)
class PemFile:
    name: str
    pem: str
    certs: tuple[x509.Cert, ...]


def read_pem(name: str, pem: str) -> PemFile | None:
    """The certificates of a PEM text (None: a block that is not a certificate's)."""
    try:
        blocks = x509.pem_blocks(pem)
        certs = tuple(x509.parse(b) for b in blocks)
    except x509.CertError:
        return None
    return PemFile(name, pem, certs)


def cert_detail(c: x509.Cert) -> str:
    """show_cert_detail: the lines of one certificate."""
    san = ", ".join(f"DNS:{n}" for n in c.dns)
    return (
        f"Serial: {c.serial}\n"
        f"notBefore: {c.not_before}\n"
        f"notAfter: {c.not_after}\n"
        f"Subject Alternative Name: {san}\n"
        f"Algorithm: {c.algorithm}\n"
        f"SHA1 FingerPrint: {c.sha1}\n"
        f"Subject: {c.subject}\n"
        f"Issuer: {c.issuer}\n"
    )


@dataclass
class CaStore:
    """CA files by name (those committed and those read from disk), the open transaction,
    the names live contexts use, and the certificate files loaded."""

    files: dict[str, PemFile] = field(default_factory=dict)
    tx: PemFile | None = None  # `set ssl ca-file`'s new content, not yet committed
    used: set[str] = field(default_factory=set)
    certs: dict[str, PemFile] = field(default_factory=dict)  # `crt` files, by path
    generation: int = 0
    cert_tx: PemFile | None = None  # `set ssl cert`'s new content, not yet committed
    # the contexts (a bind's certificate, a crt-list line, a server's) each file is in
    cert_users: dict[str, set[object]] = field(default_factory=dict)
    pair_ok: Callable[[str], bool] = lambda _pem: True  # the key fits the certificate

    def loaded(self, name: str, pem: str, *, bind: bool) -> PemFile | None:
        """A CA file read from disk; `bind`: a bind's (HAProxy shows those as Used)."""
        got = read_pem(name, pem)
        if got is not None:
            self.files.setdefault(name, got)
            if bind:
                self.used.add(name)
        return self.files.get(name)

    def cert_loaded(self, path: str, pem: str) -> None:
        got = read_pem(path, pem)
        if got is not None:
            self.certs.setdefault(path, got)  # a committed content stays

    def cert_pem(self, path: str) -> str | None:
        """The content of certificate file `path` as the store holds it (None: not read
        yet: the runtime reads the file)."""
        got = self.certs.get(path)
        return got.pem if got is not None and got.certs else None

    def cert_used(self, path: str, user: object) -> None:
        self.cert_users.setdefault(path, set()).add(user)

    # -- the runtime API (answers: (text, is an error)) -----------------------------------

    def new(self, name: str) -> tuple[str, bool]:
        if not name:
            return "'new ssl ca-file' expects a filename\n", True
        if name in self.files:
            return f"CA file '{name}' already exists!\n", True
        self.files[name] = PemFile(name, "", ())
        return f"New CA file created '{name}'!\n", False

    def set(self, name: str, payload: str | None) -> tuple[str, bool]:
        if not name or payload is None:
            return "'set ssl ca-file expects a filename and CAs as a payload\n", True
        if self.tx is not None and self.tx.name != name:
            why = (
                f"The ongoing transaction is about '{self.tx.name}' but you are trying to"
                f" set '{name}'\n"
            )
            return f"{why}Can't update {name}!\n", True
        if self.tx is None and name not in self.files:
            why = "Can't replace a CA file which is not referenced by the configuration!\n"
            return f"{why}Can't update {name}!\n", True
        got = read_pem(name, payload)
        if got is None or not got.certs:
            return f"Invalid payload\nCan't update {name}!\n", True
        created = self.tx is None
        self.tx = got
        verb = "created" if created else "updated"
        return f"transaction {verb} for CA {name}!\n", False

    def commit(self, name: str) -> tuple[str, bool]:
        if not name:
            return "'commit ssl ca-file expects a filename\n", True
        if self.tx is None:
            return f"No ongoing transaction! !\nCan't commit {name}!\n", True
        if self.tx.name != name:
            why = (
                f"The ongoing transaction is about '{self.tx.name}' but you are trying to"
                f" set '{name}'\n"
            )
            return f"{why}Can't commit {name}!\n", True
        self.files[name], self.tx = self.tx, None
        self.generation += 1
        return f"Committing {name}\nSuccess!\n", False

    def abort(self, name: str) -> tuple[str, bool]:
        got = _abort(self.tx, name, "'abort ssl ca-file' expects a filename\n")
        if not got[1]:
            self.tx = None
        return got

    def delete(self, name: str) -> tuple[str, bool]:
        if not name:
            return "'del ssl ca-file' expects a CA file name\n", True
        if name not in self.files:
            return f"CA file '{name}' doesn't exist!\n", True
        if name in self.used:
            return f"CA file '{name}' in use, can't be deleted!\n", True
        del self.files[name]
        return f"CA file '{name}' deleted!\n", False

    def show(self, arg: str) -> tuple[str, bool]:
        """`show ssl ca-file [NAME[:INDEX]]` (cli_parse_show_cafile and its handlers)."""
        if not arg:
            out = ""
            if self.tx is not None:
                out = f"# transaction\n*{self.tx.name} - {len(self.tx.certs)} certificate(s)\n"
            out += "# filename\n"
            for name in sorted(self.files):
                out += f"{name} - {len(self.files[name].certs)} certificate(s)\n"
            return out, False
        name, colon, index_text = arg.partition(":")
        first, only = 0, False
        if colon:
            if not index_text.isdigit() or int(index_text) <= 0:
                return f"wrong CA index after colons in '{arg}'!", True
            first, only = int(index_text) - 1, True
        entry = self._find(name)
        if entry is None:
            return "Can't display the CA file : Not found!\n", True
        if not entry.certs:
            return "", False
        status = "Used" if entry.name in self.used and entry is not self.tx else "Unused"
        star = "*" if entry is self.tx else ""
        out = f"Filename: {star}{entry.name}\nStatus: {status}\n"
        for i in range(first, len(entry.certs)):
            out += f" \nCertificate #{i + 1}:\n" + cert_detail(entry.certs[i])
            if only:
                break
        return out, False

    def _find(self, name: str) -> PemFile | None:
        if name.startswith("*"):
            tx = self.tx
            return tx if tx is not None and tx.name == name[1:] else None
        return self.files.get(name)

    def show_cert(self, arg: str) -> tuple[str, bool]:
        """`show ssl cert [FILE]` (cli_io_handler_show_cert / _detail)."""
        tx = self.cert_tx
        if not arg:
            if not self.certs:
                return "", False  # HAProxy without certificates prints nothing
            out = f"# transaction\n*{tx.name}\n" if tx is not None else ""
            return out + "# filename\n" + "".join(f"{p}\n" for p in sorted(self.certs)), False
        entry = self.certs.get(arg)
        if arg.startswith("*"):
            entry = tx if tx is not None and tx.name == arg[1:] else None
        if entry is None or not entry.certs:
            return (
                "Can't display the certificate: Not found or the certificate is a bundle!\n",
                True,
            )
        first = entry.certs[0]
        status = "Used" if self.cert_users.get(entry.name) and entry is not tx else "Unused"
        out = f"Filename: {arg}\nStatus: {status}\n" + cert_detail(first)
        for ca in entry.certs[1:]:
            out += f"Chain Subject: {ca.subject}\nChain Issuer: {ca.issuer}\n"
        return out + "OCSP Response Key: \n", False


def _abort(tx: PemFile | None, name: str, usage: str) -> tuple[str, bool]:
    """`abort ssl ca-file|cert NAME`'s answer (the same words for both in ssl_ckch.c)."""
    if not name:
        return usage, True
    if tx is None:
        return "No ongoing transaction!\n", True
    if tx.name != name:
        return (
            f"The ongoing transaction is about '{tx.name}' but you are trying to abort a"
            f" transaction for '{name}'\n",
            True,
        )
    return f"Transaction aborted for certificate '{name}'!\n", False


def _key_in(pem: str) -> bool:
    return "PRIVATE KEY-----" in pem


class CertCommands:
    """`new|set|commit|abort|del ssl cert` over a CaStore's certificates (ssl_ckch.c
    cli_parse_*_cert; answers: (text, is an error))."""

    def __init__(self, store: CaStore) -> None:
        self.store = store

    def new(self, name: str) -> tuple[str, bool]:
        store = self.store
        if not name:
            return "'new ssl cert' expects a filename\n", True
        if name in store.certs:
            return f"Certificate '{name}' already exists!\n", True
        store.certs[name] = PemFile(name, "", ())
        return f"New empty certificate store '{name}'!\n", False

    def set(self, name: str, payload: str | None) -> tuple[str, bool]:
        """A PEM file's transaction; while one is open any PEM `set` updates it (as
        cli_parse_set_cert does: the name is compared only for other extensions)."""
        store = self.store
        if not name or payload is None:
            return "'set ssl cert expects a filename and a certificate as a payload\n", True
        path = store.cert_tx.name if store.cert_tx is not None else name
        if store.cert_tx is None and name not in store.certs:
            why = "Can't replace a certificate which is not referenced by the configuration!\n"
            return f"{why}Can't update {name}!\n", True
        got = read_pem(path, payload)
        if got is None or not got.certs:
            why = f"unable to load certificate from file '{path}'.\nCan't load the payload\n"
            return f"{why}Can't update {name}!\n", True
        verb = "created" if store.cert_tx is None else "updated"
        store.cert_tx = got
        return f"Transaction {verb} for certificate {path}!\n", False

    def commit(self, name: str) -> tuple[str, bool]:
        store = self.store
        tx = store.cert_tx
        if not name:
            return "'commit ssl cert expects a filename\n", True
        why = ""
        if tx is None:
            why = "No ongoing transaction! !\n"
        elif tx.name != name:
            why = (
                f"The ongoing transaction is about '{tx.name}' but you are trying to set '{name}'\n"
            )
        elif not _key_in(tx.pem):
            why = "The transaction must contain at least a certificate and a private key!\n"
        elif not store.pair_ok(tx.pem):
            why = f"inconsistencies between private key and certificate loaded '{name}'.\n"
        if why or tx is None:
            return f"{why}Can't commit {name}!\n", True
        store.certs[name], store.cert_tx = tx, None
        store.generation += 1
        dots = "." * len(store.cert_users.get(name, ()))  # one per instance rebuilt
        return f"Committing {name}{dots}\nSuccess!\n", False

    def abort(self, name: str) -> tuple[str, bool]:
        got = _abort(self.store.cert_tx, name, "'abort ssl cert' expects a filename\n")
        if not got[1]:
            self.store.cert_tx = None
        return got

    def delete(self, name: str) -> tuple[str, bool]:
        store = self.store
        if not name:
            return "'del ssl cert' expects a certificate name\n", True
        why = ""
        if name not in store.certs:
            why = f"certificate '{name}' doesn't exist!\n"
        elif store.cert_users.get(name):
            why = f"certificate '{name}' in use, can't be deleted!\n"
        if why:
            return f"Can't remove the certificate: {why}\n", True
        del store.certs[name]
        return f"Certificate '{name}' deleted!\n", False
