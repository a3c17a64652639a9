/* json.h — the one checked cJSON helper set: building objects and arrays
 * (an allocation failure exits 1 naming the key), printing them to a stream
 * or a new file (write errors exit 1 naming the file), and reading (one JSON
 * value from a buffer, typed field getters whose messages name the field,
 * for bad input reported by the caller).  Accessors that cannot fail
 * (cJSON_IsArray, cJSON_GetArrayItem, cJSON_Delete, ...) are used as is. */
#ifndef NTRON_JSON_H
#define NTRON_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* ---- building: never NULL ---- */
cJSON *nt_json_object(void);
cJSON *nt_json_array(void);
cJSON *nt_json_doubles(const double *v, int n);
void nt_json_num(cJSON *o, const char *key, double v);
void nt_json_str(cJSON *o, const char *key, const char *s);
void nt_json_null(cJSON *o, const char *key);
/* o (an object) or arr (an array) takes ownership of item */
void nt_json_add(cJSON *o, const char *key, cJSON *item);
void nt_json_push(cJSON *arr, cJSON *item);

/* ---- printing ---- */
/* v as one line (formatted = 0) or indented, then a newline, flushed; what
 * names the stream in a write error */
void nt_json_write(FILE *f, const cJSON *v, int formatted, const char *what);
/* v indented into a new file at path (replaced if it exists) */
void nt_json_save(const char *path, const cJSON *v);

/* ---- reading (bad input: a message in err, the caller reports it) ---- */
/* one JSON value filling text[0, len) (trailing white space allowed); NULL
 * with "malformed JSON ..." (and the column) in err */
cJSON *nt_json_parse(const char *text, size_t len, char *err, size_t errlen);
/* field key of object o, of any type; NULL when missing (err: missing field "key") */
const cJSON *nt_json_field(const cJSON *o, const char *key, char *err, size_t errlen);
/* field key of object o: 1 and *out when it has the type; 0 when missing
 * (err: missing field "key"); -1 when of another type (err says which) */
int nt_json_get_string(const cJSON *o, const char *key, const char **out, char *err, size_t errlen);
int nt_json_get_number(const cJSON *o, const char *key, double *out, char *err, size_t errlen);
/* a number field of JSON this program built itself: missing is an internal error */
double nt_json_number(const cJSON *o, const char *key);

#endif
