/* Optional C versions of the hottest wire-codec loops; the Python modules of uwkernel/proto are the reference and the fallback.
 *
 * parse_head(head): see below. parse_vars(buf, max_vars) decodes a uwsgi vars block (u16le keylen, key, u16le vallen, value ...)
 * into a dict of latin-1 str, exactly as uwkernel.proto.uwsgi.parse_vars does, in one pass. It returns
 * None instead of raising when the block is malformed (a var running past the end, an empty key, more
 * than max_vars distinct vars): the Python side then finds and reports the precise error. Every read is
 * bounds-checked against the buffer's length before it happens.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *
parse_vars(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    Py_ssize_t max_vars;
    PyObject *environ = NULL;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "parse_vars(buf, max_vars) takes 2 arguments");
        return NULL;
    }
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
        PyObject *k = PyUnicode_DecodeLatin1((const char *)p + key, key_len, NULL);
        if (k == NULL)
            goto error;
        PyObject *v = PyUnicode_DecodeLatin1((const char *)p + value, value_len, NULL);
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
parse_head(PyObject *module, PyObject *arg)
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

static PyMethodDef methods[] = {
    {"parse_vars", (PyCFunction)(void (*)(void))parse_vars, METH_FASTCALL,
     "parse_vars(buf, max_vars) -> dict of str, or None when the vars block is malformed."},
    {"parse_head", (PyCFunction)parse_head, METH_O,
     "parse_head(head) -> (environ, keep_alive, expect_continue, chunked), or None: not a common clean head."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups",
    "Optional C versions of uwkernel.proto's hottest loops (the Python code is the reference).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
