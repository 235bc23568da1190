// A shared library that is not a Tawasul plugin: it exports no tawasul_plugin_v1.
extern "C" __attribute__((visibility("default"))) int not_a_plugin() { return 42; }
