// gradc's C++ API in one include: the model DSL, compiling, running and
// training models, tensors and errors (docs/cpp-api.md).
#pragma once

#include "gradc/compiled_model.h"
#include "gradc/error.h"
#include "gradc/host_tensor.h"
#include "gradc/layers.h"
#include "gradc/model.h"
#include "gradc/tensor.h"
#include "gradc/training.h"
#include "gradc/version.h"

/// gradc's public C++ API: the model DSL, compiled models, tensors and
/// errors (docs/cpp-api.md).
namespace gradc {}
