/* http_upload.c — the ONE multipart file upload (POST ROUTE with "file" and "purpose"), used by the
 * fine-tuning client (ft: purpose "fine-tune") and the batch runner (run: purpose "batch").
 * Owner: net. Never retried blindly: an ambiguous outcome (5xx, reset after sending) is an
 * error saying the upload may have happened. See http_client.h. */
#include "harness/net/http_client.h"

#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/util.h"

enum fe_status fe_http_upload_file(struct fe_http *h, const char *route, const char *path, const char *purpose,
                                   const char *what, cJSON **file, struct fe_err *err)
{
    *file = NULL;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    struct fe_http_part parts[] = {
        {.name = "file",
         .file_path = path,
         .filename = base,
         .content_type = "application/octet-stream"},
        {.name = "purpose", .value = purpose},
    };
    struct fe_http_call_request req = {
        .method = "POST", .path = route, .parts = parts, .n_parts = FE_ARRAY_LEN(parts)};
    struct fe_http_response resp;
    fe_http_response_init(&resp);
    enum fe_status st = FE_OK;
    for (int attempt = 0;; attempt++) {
        st = fe_http_send(h, &req, &resp, err);
        if (st != FE_OK && st != FE_ENET)
            goto out;
        enum fe_http_verdict v = fe_http_classify(&resp);
        struct fe_buf d;
        fe_buf_init(&d, 0);
        if (v == FE_HTTP_DONE && resp.status >= 200 && resp.status < 300) {
            fe_buf_release(&d);
            *file = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);
            if (!cJSON_IsObject(*file) || !fe_json_gets(*file, "id"))
                st = fe_err_set(err, FE_EPROVIDER, "%s: answer has no \"id\"", what);
            goto out;
        }
        fe_http_error_detail(&resp, &d);
        double delay = fe_http_retry_delay(h, &resp, attempt);
        if (v == FE_HTTP_RETRY && attempt < fe_http_get_retries(h) && delay >= 0) {
            fe_info("%s: %s; retry %d in %.2f s", what, fe_buf_str(&d), attempt + 1, delay);
            fe_buf_release(&d);
            fe_http_sleep(delay);
            continue;
        }
        if (v == FE_HTTP_AMBIGUOUS)
            st = fe_err_set(err, resp.status ? FE_EPROVIDER : FE_ENET,
                            "%s: %s (the upload may still have happened: check the "
                            "files list before uploading again)",
                            what, fe_buf_str(&d));
        else
            st = fe_err_set(err,
                            resp.status == 429 && fe_http_is_quota_error(&resp) ? FE_EQUOTA
                            : resp.status                                       ? FE_EPROVIDER
                                                                                : FE_ENET,
                            "%s: %s", what, fe_buf_str(&d));
        fe_buf_release(&d);
        goto out;
    }
out:
    if (st != FE_OK) {
        cJSON_Delete(*file);
        *file = NULL;
    }
    fe_http_response_release(&resp);
    return st;
}
