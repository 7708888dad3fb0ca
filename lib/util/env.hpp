// Environment variables as settings: an empty variable counts as unset,
// and a value configured explicitly wins over any of them.
#pragma once

#include <initializer_list>
#include <string>

namespace bkp::util {

// The variable's value, "" when it is unset.
std::string env(const char* name);

// `configured` when it is not empty, else the first of `names` set to a
// non-empty value, else "".
std::string configured_or_env(const std::string& configured,
                              std::initializer_list<const char*> names);

}  // namespace bkp::util
