/* A Node-API addon compiled in the -dev image against Debian's node
 * headers (libnode-dev) and loaded in the runtime image. */
#include <node_api.h>

static napi_value answer(napi_env env, napi_callback_info info) {
	long sum = 0;
	for (long i = 0; i < 7; i++)
		sum += i * i;
	napi_value out;
	napi_create_int64(env, sum - 49, &out);
	return out;
}

NAPI_MODULE_INIT() {
	napi_value fn;
	napi_create_function(env, "answer", NAPI_AUTO_LENGTH, answer, NULL, &fn);
	napi_set_named_property(env, exports, "answer", fn);
	return exports;
}
