// The whole configuration schema: every stage's declared keys, assembled in pipeline order.
#pragma once

#include "common/config.h"

namespace neuroemu {

Schema neuroemu_schema();

}  // namespace neuroemu
