/* json.c — the checked cJSON helpers (see json.h). */
#include "util/json.h"
#include "util/check.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static cJSON *made(cJSON *v, const char *what)
{
    NT_CHECK(v != NULL, "cJSON: out of memory for %s", what);
    return v;
}

cJSON *nt_json_object(void) { return made(cJSON_CreateObject(), "a JSON object"); }
cJSON *nt_json_array(void) { return made(cJSON_CreateArray(), "a JSON array"); }
cJSON *nt_json_doubles(const double *v, int n) { return made(cJSON_CreateDoubleArray(v, n), "a JSON number array"); }
void nt_json_num(cJSON *o, const char *key, double v) { made(cJSON_AddNumberToObject(o, key, v), key); }
void nt_json_str(cJSON *o, const char *key, const char *s) { made(cJSON_AddStringToObject(o, key, s), key); }
void nt_json_null(cJSON *o, const char *key) { made(cJSON_AddNullToObject(o, key), key); }

void nt_json_add(cJSON *o, const char *key, cJSON *item)
{
    NT_CHECK(cJSON_AddItemToObject(o, key, item), "cJSON: cannot add %s", key);
}

void nt_json_push(cJSON *arr, cJSON *item)
{
    NT_CHECK(cJSON_AddItemToArray(arr, item), "cJSON: cannot append to an array");
}

void nt_json_write(FILE *f, const cJSON *v, int formatted, const char *what)
{
    char *s = formatted ? cJSON_Print(v) : cJSON_PrintUnformatted(v);
    NT_CHECK(s != NULL, "cJSON: out of memory printing %s", what);
    if (fputs(s, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0)
        nt_die(NT_EXIT_FAIL, "%s: write failed: %s", what, strerror(errno));
    cJSON_free(s);
}

void nt_json_save(const char *path, const cJSON *v)
{
    FILE *f = fopen(path, "w");
    if (!f) nt_die(NT_EXIT_FAIL, "%s: cannot open for writing: %s", path, strerror(errno));
    nt_json_write(f, v, 1, path);
    if (fclose(f) != 0) nt_die(NT_EXIT_FAIL, "%s: write failed: %s", path, strerror(errno));
}

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

cJSON *nt_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!v) {
        const char *at = cJSON_GetErrorPtr();
        size_t col = at && at >= text && at <= text + len ? (size_t)(at - text) + 1 : 1;
        say(err, errlen, "malformed JSON near column %zu", col);
        return NULL;
    }
    while (end && end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')) end++;
    if (end && end < text + len) {
        say(err, errlen, "malformed JSON: text after the object at column %zu", (size_t)(end - text) + 1);
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

const cJSON *nt_json_field(const cJSON *o, const char *key, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) say(err, errlen, "missing field \"%s\"", key);
    return v;
}

int nt_json_get_string(const cJSON *o, const char *key, const char **out, char *err, size_t errlen)
{
    const cJSON *v = nt_json_field(o, key, err, errlen);
    if (!v) return 0;
    if (!cJSON_IsString(v) || !v->valuestring) { say(err, errlen, "field \"%s\" is not a string", key); return -1; }
    *out = v->valuestring;
    return 1;
}

int nt_json_get_number(const cJSON *o, const char *key, double *out, char *err, size_t errlen)
{
    const cJSON *v = nt_json_field(o, key, err, errlen);
    if (!v) return 0;
    if (!cJSON_IsNumber(v)) { say(err, errlen, "field \"%s\" is not a number", key); return -1; }
    *out = v->valuedouble;
    return 1;
}

double nt_json_number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    NT_CHECK(cJSON_IsNumber(v), "internal: JSON field %s missing or not a number", key);
    return v->valuedouble;
}
