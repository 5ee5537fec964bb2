/* Public information calls: GET /version, GET {version}/server_information
 * and GET /.well-known/smimp.txt (spec 4.1, 4.3, 10). */
#ifndef SMD_API_INFO_H
#define SMD_API_INFO_H

#include "routes.h"

enum smimp_err smd_api_version(const struct smd_request *req,
			       const struct smd_args *args,
			       struct smd_response *resp,
			       struct smimp_error *err);
enum smimp_err smd_api_server_information(const struct smd_request *req,
					  const struct smd_args *args,
					  struct smd_response *resp,
					  struct smimp_error *err);
enum smimp_err smd_api_well_known(const struct smd_request *req,
				  const struct smd_args *args,
				  struct smd_response *resp,
				  struct smimp_error *err);

#endif
