// The container of an azure:// location: Get Container Properties to see
// whether it exists, and Create Container for bkp init --create-bucket
// (private: no public access).
#include "storage/azure.hpp"
#include "storage/http_error.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;

util::Result<bool> AzureBackend::container_exists() {
  BKP_ASSIGN(auto response, send({"GET", "", {{"restype", "container"}}, {}, {}}));
  if (response.status == 200) return true;
  if (response.status == 404) return false;
  return fail(azure_error(response, "checking container '" + location_.container + "'"));
}

util::Status AzureBackend::create_container() {
  BKP_ASSIGN(auto response, send({"PUT", "", {{"restype", "container"}}, {}, {}}));
  if (response.status == 201) return {};
  auto error = azure_error(response, "creating container '" + location_.container + "'");
  if (response.status == 409) error.kind = ErrorKind::exists;
  return fail(error);
}

}  // namespace bkp::storage
