// Reads the engine configuration object the control plane passes (already validated there;
// here only shapes are checked, and a wrong one is a TypeError naming the field).
#pragma once
#include <napi.h>

#include "engine.h"

engine_config config_parse(const Napi::Object& o);
