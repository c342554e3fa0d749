/* A CPython extension module compiled in the -dev image and imported in
 * the runtime image: answer.answer(n) sums the squares below n in C. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *answer(PyObject *self, PyObject *args) {
	long n = 7, sum = 0;
	if (!PyArg_ParseTuple(args, "|l", &n))
		return NULL;
	for (long i = 0; i < n; i++)
		sum += i * i;
	return PyLong_FromLong(sum - 49);
}

static PyMethodDef methods[] = {
	{"answer", answer, METH_VARARGS, "The sum of the squares below n, less 49."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "answer", NULL, -1, methods};

PyMODINIT_FUNC PyInit_answer(void) { return PyModule_Create(&module); }
