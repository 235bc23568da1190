#pragma once
// Symbol visibility for libtawasul-sdk: everything is hidden unless marked here.
#define TAWASUL_SDK_API __attribute__((visibility("default")))
