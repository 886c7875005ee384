/* Optional C versions of the hottest wire-codec loops; the Python modules of uwkernel/proto are the reference and the fallback.
 *
 * parse_vars(buf, max_vars) decodes a uwsgi vars block (u16le keylen, key, u16le vallen, value ...)
 * into a dict of latin-1 str, exactly as uwkernel.proto.uwsgi.parse_vars does, in one pass. It returns
 * None instead of raising when the block is malformed (a var running past the end, an empty key, more
 * than max_vars distinct vars): the Python side then finds and reports the precise error. Every read is
 * bounds-checked against the buffer's length before it happens.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

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

static PyMethodDef methods[] = {
    {"parse_vars", (PyCFunction)(void (*)(void))parse_vars, METH_FASTCALL,
     "parse_vars(buf, max_vars) -> dict of str, or None when the vars block is malformed."},
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
