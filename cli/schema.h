// The whole configuration schema: every stage's declared keys, assembled in pipeline order.
#pragma once

#include <vector>

#include "common/config.h"
#include "common/registry.h"

namespace neuroemu {

Schema neuroemu_schema();

// Every family of interchangeable implementations (common/registry.h), for `neuroemu list`.
std::vector<const FamilyInfo*> registered_families();

}  // namespace neuroemu
