/* Optional C versions of the request path's hottest steps: the wire codecs of uwkernel/proto and the scoreboard's
 * per-request slot writes. The Python code is the reference and the fallback.
 *
 * parse_head(fallback, head), response_head(fallback, ...), slot_begin and slot_end: see below. parse_vars(buf, max_vars, raw) decodes a uwsgi vars block (u16le keylen, key, u16le
 * vallen, value ...) into a dict, of latin-1 str or (raw) of bytes, exactly as uwkernel.proto.uwsgi.parse_vars_py
 * does, in one pass. It returns None instead of raising when the block is malformed (a var running past the end,
 * an empty key, more than max_vars distinct vars): the Python side then finds and reports the precise error.
 * Every read is bounds-checked against the buffer's length before it happens. encode_vars(mapping, raw,
 * modifier1, modifier2) is the reverse, as uwkernel.proto.uwsgi.encode_vars_py, for a dict of bytes (and, unless
 * raw, latin-1 str), preceded by a packet header when modifier1 is not None; it returns None for anything else
 * (another type, an empty or too long item, a packet over 65535 bytes, a modifier that is not a byte): the Python
 * side handles or refuses it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *
parse_vars(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    Py_ssize_t max_vars;
    PyObject *environ = NULL;

    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "parse_vars(buf, max_vars, raw) takes 3 arguments");
        return NULL;
    }
    const int raw = PyObject_IsTrue(args[2]);
    if (raw < 0)
        return NULL;
    max_vars = PyLong_AsSsize_t(args[1]);
    if (max_vars == -1 && PyErr_Occurred())
        return NULL;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;

    const unsigned char *p = (const unsigned char *)view.buf;
    const Py_ssize_t end = view.len;
    Py_ssize_t pos = 0;

    environ = PyDict_New();
    if (environ == NULL)
        goto error;
    while (pos < end) {
        if (end - pos < 2)
            goto malformed;
        const Py_ssize_t key = pos + 2;
        const Py_ssize_t key_len = p[pos] | (p[pos + 1] << 8);
        if (key_len == 0 || end - key < key_len + 2)
            goto malformed;
        const Py_ssize_t value_len = p[key + key_len] | (p[key + key_len + 1] << 8);
        const Py_ssize_t value = key + key_len + 2;
        if (end - value < value_len)
            goto malformed;
        PyObject *k = raw ? PyBytes_FromStringAndSize((const char *)p + key, key_len)
                          : PyUnicode_DecodeLatin1((const char *)p + key, key_len, NULL);
        if (k == NULL)
            goto error;
        PyObject *v = raw ? PyBytes_FromStringAndSize((const char *)p + value, value_len)
                          : PyUnicode_DecodeLatin1((const char *)p + value, value_len, NULL);
        if (v == NULL) {
            Py_DECREF(k);
            goto error;
        }
        int failed = PyDict_SetItem(environ, k, v);
        Py_DECREF(k);
        Py_DECREF(v);
        if (failed)
            goto error;
        pos = value + value_len;
    }
    if (PyDict_GET_SIZE(environ) > max_vars)
        goto malformed;
    PyBuffer_Release(&view);
    return environ;

malformed:
    Py_DECREF(environ);
    PyBuffer_Release(&view);
    Py_RETURN_NONE;

error:
    Py_XDECREF(environ);
    PyBuffer_Release(&view);
    return NULL;
}


/* The bytes of one key or value for encode_vars: 1 and *data, *len set; 0 for a type it leaves to the Python. */
static int
item_bytes(PyObject *item, int raw, const char **data, Py_ssize_t *len)
{
    if (PyBytes_Check(item)) {
        *data = PyBytes_AS_STRING(item);
        *len = PyBytes_GET_SIZE(item);
        return 1;
    }
    if (raw || !PyUnicode_Check(item))
        return 0;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(item) < 0) {
        PyErr_Clear();
        return 0;
    }
#endif
    if (PyUnicode_KIND(item) != PyUnicode_1BYTE_KIND)
        return 0;
    *data = (const char *)PyUnicode_1BYTE_DATA(item);
    *len = PyUnicode_GET_LENGTH(item);
    return 1;
}

static PyObject *
encode_vars(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "encode_vars(mapping, raw, modifier1, modifier2) takes 4 arguments");
        return NULL;
    }
    PyObject *mapping = args[0];
    const int raw = PyObject_IsTrue(args[1]);
    if (raw < 0)
        return NULL;
    if (!PyDict_Check(mapping))
        Py_RETURN_NONE;
    const Py_ssize_t header = args[2] == Py_None ? 0 : 4;
    long modifier1 = 0, modifier2 = 0;
    if (header) {
        if (!PyLong_CheckExact(args[2]) || !PyLong_CheckExact(args[3]))
            Py_RETURN_NONE;
        modifier1 = PyLong_AsLong(args[2]);
        modifier2 = PyLong_AsLong(args[3]);
        if (PyErr_Occurred()) {
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        if (modifier1 < 0 || modifier1 > 255 || modifier2 < 0 || modifier2 > 255)
            Py_RETURN_NONE;
    }

    /* first pass: check every item and add up the size (nothing here runs Python code: the dict stays as it is) */
    Py_ssize_t at = 0, size = 0, key_len, value_len;
    const char *key, *value;
    PyObject *k, *v;
    while (PyDict_Next(mapping, &at, &k, &v)) {
        if (!item_bytes(k, raw, &key, &key_len) || !item_bytes(v, raw, &value, &value_len))
            Py_RETURN_NONE;
        if (key_len == 0 || key_len > 0xFFFF || value_len > 0xFFFF)
            Py_RETURN_NONE;
        size += 4 + key_len + value_len;
    }
    if (header && size > 0xFFFF)
        Py_RETURN_NONE;
    PyObject *block = PyBytes_FromStringAndSize(NULL, header + size);
    if (block == NULL)
        return NULL;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(block);
    const unsigned char *const end = out + header + size;
    if (header) {
        *out++ = (unsigned char)modifier1;
        *out++ = size & 0xFF;
        *out++ = size >> 8;
        *out++ = (unsigned char)modifier2;
    }
    at = 0;
    while (PyDict_Next(mapping, &at, &k, &v)) {
        if (!item_bytes(k, raw, &key, &key_len) || !item_bytes(v, raw, &value, &value_len)
            || end - out < 4 + key_len + value_len) { /* never: the dict cannot change between the passes */
            Py_DECREF(block);
            Py_RETURN_NONE;
        }
        *out++ = key_len & 0xFF;
        *out++ = key_len >> 8;
        memcpy(out, key, key_len);
        out += key_len;
        *out++ = value_len & 0xFF;
        *out++ = value_len >> 8;
        memcpy(out, value, value_len);
        out += value_len;
    }
    return block;
}


/* ---- HTTP request heads ------------------------------------------------------------------------------
 *
 * parse_head(head) parses the common, clean request head exactly as uwkernel.proto.http.parse_head does
 * and returns None for anything else (a percent-encoded or absolute target, a method outside the common
 * seven, Transfer-Encoding, a Connection list, any control character but the CRLFs and tabs in values,
 * any malformed line...): the Python function then parses it, or raises the precise error.
 */

static int
is_token_char(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
equals_lower(const unsigned char *p, Py_ssize_t n, const char *word)
{
    Py_ssize_t i = 0;
    for (; i < n && word[i]; i++) {
        unsigned char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c += 32;
        if (c != (unsigned char)word[i])
            return 0;
    }
    return i == n && word[i] == 0;
}

static int
set_latin1(PyObject *dict, const char *key, const unsigned char *p, Py_ssize_t n)
{
    PyObject *value = PyUnicode_DecodeLatin1((const char *)p, n, NULL);
    if (value == NULL)
        return -1;
    int failed = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return failed;
}

static const char *const METHODS[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", NULL};

static PyObject *
parse_head_common(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    PyObject *environ = NULL, *result = NULL;
    /* where the Content-Length, Connection and Expect values are (offset, length; -1: absent) */
    Py_ssize_t length_at = -1, length_len = 0, conn_at = -1, conn_len = 0, expect_at = -1, expect_len = 0;
    char key[256];

    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *p = (const unsigned char *)view.buf;
    Py_ssize_t end = view.len;
    while (end > 0 && (p[end - 1] == '\r' || p[end - 1] == '\n'))
        end--;

    /* the request line: METHOD SP TARGET SP VERSION */
    Py_ssize_t line_end = 0;
    while (line_end < end && p[line_end] != '\r' && p[line_end] != '\n')
        line_end++;
    if (line_end < end && (end - line_end < 2 || p[line_end] != '\r' || p[line_end + 1] != '\n'))
        goto fallback;
    Py_ssize_t sp1 = -1, sp2 = -1;
    for (Py_ssize_t i = 0; i < line_end; i++) {
        unsigned char c = p[i];
        if (c < 0x20 || c == 0x7f)
            goto fallback;
        if (c == ' ') {
            if (sp1 < 0)
                sp1 = i;
            else if (sp2 < 0)
                sp2 = i;
            else
                goto fallback;
        }
    }
    if (sp1 <= 0 || sp2 < 0 || sp2 == sp1 + 1 || sp2 == line_end - 1)
        goto fallback;
    int known = 0;
    for (const char *const *m = METHODS; *m; m++) {
        if ((Py_ssize_t)strlen(*m) == sp1 && memcmp(p, *m, sp1) == 0) {
            known = 1;
            break;
        }
    }
    if (!known)
        goto fallback;
    const unsigned char *version = p + sp2 + 1;
    Py_ssize_t version_len = line_end - sp2 - 1;
    if (version_len != 8 || (memcmp(version, "HTTP/1.1", 8) != 0 && memcmp(version, "HTTP/1.0", 8) != 0))
        goto fallback;
    int http11 = version[7] == '1';
    const unsigned char *target = p + sp1 + 1;
    Py_ssize_t target_len = sp2 - sp1 - 1, path_len = target_len;
    if (target[0] != '/')
        goto fallback;
    if (memchr(target, '#', target_len) != NULL)
        goto fallback;
    const unsigned char *question = memchr(target, '?', target_len);
    if (question != NULL)
        path_len = question - target;
    if (memchr(target, '%', path_len) != NULL) /* the path is percent-decoded by the Python */
        goto fallback;

    environ = PyDict_New();
    if (environ == NULL)
        goto error;
    if (set_latin1(environ, "REQUEST_METHOD", p, sp1) < 0 || set_latin1(environ, "REQUEST_URI", target, target_len) < 0
        || set_latin1(environ, "SERVER_PROTOCOL", version, 8) < 0)
        goto error;

    /* the header lines */
    Py_ssize_t pos = line_end + 2;
    while (pos < end) {
        Py_ssize_t eol = pos, colon = -1;
        while (eol < end && p[eol] != '\r' && p[eol] != '\n') {
            unsigned char c = p[eol];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                goto fallback;
            if (c == ':' && colon < 0)
                colon = eol;
            eol++;
        }
        if (eol < end && (end - eol < 2 || p[eol] != '\r' || p[eol + 1] != '\n'))
            goto fallback;
        if (colon <= pos || colon - pos > 200)
            goto fallback;
        int dropped = 0;
        for (Py_ssize_t i = pos; i < colon; i++) {
            if (!is_token_char(p[i]))
                goto fallback;
            if (p[i] == '_')
                dropped = 1;
        }
        Py_ssize_t value = colon + 1, value_end = eol;
        while (value < value_end && (p[value] == ' ' || p[value] == '\t'))
            value++;
        while (value_end > value && (p[value_end - 1] == ' ' || p[value_end - 1] == '\t'))
            value_end--;
        if (!dropped) {
            Py_ssize_t n = 0, name_len = colon - pos;
            int cgi = (name_len == 12 && equals_lower(p + pos, 12, "content-type"))
                      || (name_len == 14 && equals_lower(p + pos, 14, "content-length"));
            if (!cgi) {
                memcpy(key, "HTTP_", 5);
                n = 5;
            }
            for (Py_ssize_t i = pos; i < colon; i++) {
                unsigned char c = p[i];
                key[n++] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? c - 32 : c;
            }
            key[n] = 0;
            if (strcmp(key, "HTTP_TRANSFER_ENCODING") == 0)
                goto fallback;
            if (strcmp(key, "CONTENT_LENGTH") == 0) {
                if (length_at >= 0)
                    goto fallback; /* repeats: the Python checks that they agree */
                length_at = value;
                length_len = value_end - value;
            }
            else if (strcmp(key, "HTTP_CONNECTION") == 0) {
                if (conn_at >= 0)
                    goto fallback;
                conn_at = value;
                conn_len = value_end - value;
            }
            else if (strcmp(key, "HTTP_EXPECT") == 0) {
                if (expect_at >= 0)
                    goto fallback;
                expect_at = value;
                expect_len = value_end - value;
            }
            PyObject *old = PyDict_GetItemString(environ, key); /* borrowed */
            if (old == NULL) {
                if (set_latin1(environ, key, p + value, value_end - value) < 0)
                    goto error;
            }
            else {
                if (strcmp(key, "HTTP_HOST") == 0)
                    goto fallback; /* a repeated Host is an error the Python reports */
                PyObject *more = PyUnicode_DecodeLatin1((const char *)p + value, value_end - value, NULL);
                if (more == NULL)
                    goto error;
                PyObject *joined = PyUnicode_FromFormat(strcmp(key, "HTTP_COOKIE") == 0 ? "%U; %U" : "%U, %U",
                                                        old, more);
                Py_DECREF(more);
                if (joined == NULL)
                    goto error;
                int failed = PyDict_SetItemString(environ, key, joined);
                Py_DECREF(joined);
                if (failed)
                    goto error;
            }
        }
        pos = eol + 2;
    }

    if (set_latin1(environ, "PATH_INFO", target, path_len) < 0)
        goto error;
    if (path_len < target_len) {
        if (set_latin1(environ, "QUERY_STRING", target + path_len + 1, target_len - path_len - 1) < 0)
            goto error;
    }
    else if (set_latin1(environ, "QUERY_STRING", target, 0) < 0)
        goto error;

    if (length_at >= 0) { /* plain digits, normalised: leading zeros dropped */
        if (length_len == 0)
            goto fallback;
        for (Py_ssize_t i = 0; i < length_len; i++)
            if (p[length_at + i] < '0' || p[length_at + i] > '9')
                goto fallback;
        while (length_len > 1 && p[length_at] == '0') {
            length_at++;
            length_len--;
        }
        if (length_len > 18)
            goto fallback;
        if (set_latin1(environ, "CONTENT_LENGTH", p + length_at, length_len) < 0)
            goto error;
    }
    int keep_alive;
    if (conn_at < 0)
        keep_alive = http11;
    else {
        if (memchr(p + conn_at, ',', conn_len) != NULL)
            goto fallback;
        keep_alive = http11 ? !equals_lower(p + conn_at, conn_len, "close")
                            : equals_lower(p + conn_at, conn_len, "keep-alive");
    }
    int expect_continue = http11 && expect_at >= 0 && equals_lower(p + expect_at, expect_len, "100-continue");
    result = Py_BuildValue("(OOOO)", environ, keep_alive ? Py_True : Py_False,
                           expect_continue ? Py_True : Py_False, Py_False);
    Py_DECREF(environ);
    PyBuffer_Release(&view);
    return result;

fallback:
    Py_XDECREF(environ);
    PyBuffer_Release(&view);
    Py_RETURN_NONE;

error:
    Py_XDECREF(environ);
    PyBuffer_Release(&view);
    return NULL;
}

/* ---- HTTP response heads ----------------------------------------------------------------------------
 *
 * response_head(protocol, status, headers, length, reusable, http, head_only) builds the head and decides
 * the framing exactly as uwkernel.proto.http.response_head_py does, for the common case: str objects of
 * ASCII without CR or LF, a list of (str, str) tuples, a Content-Length of plain digits. For anything
 * else it returns None and the Python function builds the head or raises the precise error.
 */

/* An ASCII str without CR or LF: its bytes and length; NULL for anything else. */
static const char *
clean_ascii(PyObject *text, Py_ssize_t *len)
{
    if (!PyUnicode_CheckExact(text) || !PyUnicode_IS_ASCII(text))
        return NULL;
    const char *p = (const char *)PyUnicode_1BYTE_DATA(text);
    *len = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < *len; i++)
        if (p[i] == '\r' || p[i] == '\n')
            return NULL;
    return p;
}

static char *
append(char *out, const char *p, Py_ssize_t n)
{
    memcpy(out, p, n);
    return out + n;
}

static PyObject *
response_head_common(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "response_head(protocol, status, headers, length, reusable, http, head_only) takes 7 arguments");
        return NULL;
    }
    Py_ssize_t protocol_len, status_len;
    const char *protocol = clean_ascii(args[0], &protocol_len);
    const char *status = clean_ascii(args[1], &status_len);
    PyObject *headers = args[2];
    if (protocol == NULL || status == NULL || !PyList_CheckExact(headers) || status_len < 3
        || (status_len > 3 && status[3] != ' '))
        Py_RETURN_NONE;
    int code = 0;
    for (int i = 0; i < 3; i++) {
        if (status[i] < '0' || status[i] > '9')
            Py_RETURN_NONE;
        code = code * 10 + (status[i] - '0');
    }
    Py_ssize_t length = -1;
    if (args[3] != Py_None) {
        length = PyLong_AsSsize_t(args[3]);
        if (length == -1 && PyErr_Occurred())
            return NULL;
        if (length < 0)
            Py_RETURN_NONE;
    }
    int reusable = PyObject_IsTrue(args[4]), http = PyObject_IsTrue(args[5]), head_only = PyObject_IsTrue(args[6]);
    if (reusable < 0 || http < 0 || head_only < 0)
        return NULL;

    /* One pass over the headers: validate, measure, note the framing ones. */
    const Py_ssize_t count = PyList_GET_SIZE(headers);
    Py_ssize_t size = protocol_len + 1 + status_len;
    const char *declared_text = NULL;
    Py_ssize_t declared_len = 0;
    int connection = 0, closing = 0, coded = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(headers, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2)
            Py_RETURN_NONE;
        Py_ssize_t name_len, value_len;
        const char *name = clean_ascii(PyTuple_GET_ITEM(item, 0), &name_len);
        const char *value = clean_ascii(PyTuple_GET_ITEM(item, 1), &value_len);
        if (name == NULL || value == NULL)
            Py_RETURN_NONE;
        const unsigned char *n = (const unsigned char *)name;
        if (name_len == 14 && equals_lower(n, 14, "content-length")) {
            declared_text = value;
            declared_len = value_len;
        }
        else if (name_len == 10 && equals_lower(n, 10, "connection")) {
            connection = 1;
            closing = equals_lower((const unsigned char *)value, value_len, "close");
        }
        else if (name_len == 17 && equals_lower(n, 17, "transfer-encoding"))
            coded = 1;
        size += 2 + name_len + 2 + value_len;
    }

    /* Framing: how the body is delimited, whether the connection stays open. */
    const int bodiless = code < 200 || code == 204 || code == 304;
    int keep = reusable && !closing && !coded, chunked = 0;
    Py_ssize_t declared = -1;
    char length_text[24];
    int length_len = 0;
    if (declared_text != NULL) {
        if (declared_len < 1 || declared_len > 18)
            Py_RETURN_NONE;
        declared = 0;
        for (Py_ssize_t i = 0; i < declared_len; i++) {
            if (declared_text[i] < '0' || declared_text[i] > '9')
                Py_RETURN_NONE;  /* int() may still read it (spaces, a sign): the Python decides */
            declared = declared * 10 + (declared_text[i] - '0');
        }
    }
    else if (keep && !bodiless && !head_only) {
        if (length >= 0) {
            length_len = snprintf(length_text, sizeof length_text, "%zd", length);
            size += 18 + length_len;  /* "\r\nContent-Length: " */
            declared = length;
        }
        else if (protocol_len == 8 && memcmp(protocol, "HTTP/1.1", 8) == 0) {
            chunked = 1;
            size += 28;  /* "\r\nTransfer-Encoding: chunked" */
        }
        else
            keep = 0;
    }
    const char *tail = "\r\n\r\n";
    if (http && !connection) {
        if (!keep)
            tail = "\r\nConnection: close\r\n\r\n";
        else if (protocol_len == 8 && memcmp(protocol, "HTTP/1.0", 8) == 0)
            tail = "\r\nConnection: keep-alive\r\n\r\n";
    }
    const Py_ssize_t tail_len = strlen(tail);
    size += tail_len;

    PyObject *head = PyBytes_FromStringAndSize(NULL, size);
    if (head == NULL)
        return NULL;
    char *out = PyBytes_AS_STRING(head);
    out = append(out, protocol, protocol_len);
    *out++ = ' ';
    out = append(out, status, status_len);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(headers, i);
        PyObject *name = PyTuple_GET_ITEM(item, 0), *value = PyTuple_GET_ITEM(item, 1);
        out = append(out, "\r\n", 2);
        out = append(out, (const char *)PyUnicode_1BYTE_DATA(name), PyUnicode_GET_LENGTH(name));
        out = append(out, ": ", 2);
        out = append(out, (const char *)PyUnicode_1BYTE_DATA(value), PyUnicode_GET_LENGTH(value));
    }
    if (length_len) {
        out = append(out, "\r\nContent-Length: ", 18);
        out = append(out, length_text, length_len);
    }
    if (chunked)
        out = append(out, "\r\nTransfer-Encoding: chunked", 28);
    append(out, tail, tail_len);

    PyObject *declared_obj = declared >= 0 ? PyLong_FromSsize_t(declared) : Py_NewRef(Py_None);
    if (declared_obj == NULL) {
        Py_DECREF(head);
        return NULL;
    }
    return Py_BuildValue("(NinNOOO)", head, code, count, declared_obj, chunked ? Py_True : Py_False,
                         keep ? Py_True : Py_False, !head_only && !bodiless ? Py_True : Py_False);
}

/* ---- the public entry points of the two HTTP head functions ---------------------------------------------
 *
 * parse_head(fallback, head) and response_head(fallback, protocol, ...) answer what the functions above
 * take and hand everything else to ``fallback`` (the Python reference, so a caller makes one call either
 * way); with ``fallback`` None they return None for it instead (the differential tests use that).
 */

static PyObject *
parse_head(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "parse_head(fallback, head) takes 2 arguments");
        return NULL;
    }
    PyObject *parsed = parse_head_common(module, args[1]);
    if (parsed != Py_None || args[0] == Py_None)
        return parsed;
    Py_DECREF(parsed);
    return PyObject_CallOneArg(args[0], args[1]);
}

static PyObject *
response_head(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "response_head(fallback, protocol, status, headers, length, reusable, http, "
                                         "head_only) takes 8 arguments");
        return NULL;
    }
    PyObject *built = response_head_common(module, args + 1, nargs - 1);
    if (built != Py_None || args[0] == Py_None)
        return built;
    Py_DECREF(built);
    return PyObject_Vectorcall(args[0], args + 1, nargs - 1, NULL);
}

/* ---- scoreboard slot writes ---------------------------------------------------------------------------
 *
 * slot_begin and slot_end do what uwkernel.scoreboard.Slot.begin and .end do, on the slot's fields in
 * the shared mmap (little-endian int64 and float64, as the Python struct formats say; on a big-endian
 * host these functions are not built and the Python serves). The counters are read back from the slot
 * itself, which only this worker writes.
 */
#if PY_LITTLE_ENDIAN
#include <time.h>

#define SLOT_BUSY 1
#define SLOT_IDLE 0

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The writable buffer of ``mem`` with ``size`` bytes from ``offset`` inside it; -1 with an exception. */
static int
slot_buffer(PyObject *mem, PyObject *offset_obj, Py_ssize_t size, Py_buffer *view, char **at)
{
    Py_ssize_t offset = PyLong_AsSsize_t(offset_obj);
    if (offset == -1 && PyErr_Occurred())
        return -1;
    if (PyObject_GetBuffer(mem, view, PyBUF_WRITABLE) < 0)
        return -1;
    if (offset < 0 || offset > view->len - size) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "slot offset outside the scoreboard");
        return -1;
    }
    *at = (char *)view->buf + offset;
    return 0;
}

/* slot_begin(mem, status_offset, harakiri) -> start: status busy, deadline (0.0 without harakiri), start. */
static PyObject *
slot_begin(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "slot_begin(mem, status_offset, harakiri) takes 3 arguments");
        return NULL;
    }
    double harakiri = PyFloat_AsDouble(args[2]);
    if (harakiri == -1.0 && PyErr_Occurred())
        return NULL;
    Py_buffer view;
    char *at;
    if (slot_buffer(args[0], args[1], 24, &view, &at) < 0)
        return NULL;
    const double now = now_seconds();
    const int64_t status = SLOT_BUSY;
    const double deadline = harakiri ? now + harakiri : 0.0;
    memcpy(at, &status, 8);
    memcpy(at + 8, &deadline, 8);
    memcpy(at + 16, &now, 8);
    PyBuffer_Release(&view);
    return PyFloat_FromDouble(now);
}

/* slot_end(mem, counters_offset, start, tx, exception=False) -> this process's request count. */
static PyObject *
slot_end(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *exception_obj = nargs > 4 ? args[4] : Py_False;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs < 4 || nargs + nkw > 5
        || (nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "exception") != 0)) {
        PyErr_SetString(PyExc_TypeError, "slot_end(mem, counters_offset, start, tx, exception=False)");
        return NULL;
    }
    if (nkw == 1)
        exception_obj = args[nargs];
    const double start = PyFloat_AsDouble(args[2]);
    if (start == -1.0 && PyErr_Occurred())
        return NULL;
    const long long tx = PyLong_AsLongLong(args[3]);
    if (tx == -1 && PyErr_Occurred())
        return NULL;
    const int exception = PyObject_IsTrue(exception_obj);
    if (exception < 0)
        return NULL;
    Py_buffer view;
    char *at;
    /* requests, delta_requests, exceptions, tx, running_time, avg_rt, status, deadline */
    if (slot_buffer(args[0], args[1], 64, &view, &at) < 0)
        return NULL;
    int64_t counters[6];
    memcpy(counters, at, sizeof counters);
    counters[0] += 1;
    counters[1] += 1;
    counters[2] += exception;
    counters[3] += tx;
    counters[4] += (int64_t)((now_seconds() - start) * 1000000);
    counters[5] = counters[4] / counters[0];
    const int64_t status = SLOT_IDLE;
    const double deadline = 0.0;
    memcpy(at, counters, sizeof counters);
    memcpy(at + 48, &status, 8);
    memcpy(at + 56, &deadline, 8);
    PyBuffer_Release(&view);
    return PyLong_FromLongLong(counters[1]);
}
#endif

static PyMethodDef methods[] = {
    {"parse_vars", (PyCFunction)(void (*)(void))parse_vars, METH_FASTCALL,
     "parse_vars(buf, max_vars, raw) -> dict of str (of bytes if raw), or None when the vars block is malformed."},
    {"encode_vars", (PyCFunction)(void (*)(void))encode_vars, METH_FASTCALL,
     "encode_vars(mapping, raw, modifier1, modifier2) -> vars block (a packet if modifier1 is not None), or None: "
     "left to the Python."},
    {"parse_head", (PyCFunction)(void (*)(void))parse_head, METH_FASTCALL,
     "parse_head(fallback, head) -> (environ, keep_alive, expect_continue, chunked); fallback(head) (None when "
     "fallback is None) for a head that is not a common clean one."},
    {"response_head", (PyCFunction)(void (*)(void))response_head, METH_FASTCALL,
     "response_head(fallback, protocol, status, headers, length, reusable, http, head_only) -> (head, status, "
     "header_count, declared, chunked, keep_alive, send_body); fallback(...) (None when fallback is None) for a "
     "response that is not a common clean one."},
#if PY_LITTLE_ENDIAN
    {"slot_begin", (PyCFunction)(void (*)(void))slot_begin, METH_FASTCALL,
     "slot_begin(mem, status_offset, harakiri) -> start time: a request begins in a scoreboard slot."},
    {"slot_end", (PyCFunction)(void (*)(void))slot_end, METH_FASTCALL | METH_KEYWORDS,
     "slot_end(mem, counters_offset, start, tx, exception=False) -> this process's request count."},
#endif
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups",
    "Optional C versions of the request path's hottest steps (the Python code is the reference).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
