/* answer_check.c — ntron's side of tests/test_answer.sh: reads the cases
 * file (JSON lines: {"text": T} or {"normalize": S}) and writes one JSON
 * line per case, as tests/answer_reference.py does for lm-eval's
 * functions: {"how", "answer"} of nt_answer_extract, or {"normalized"} of
 * nt_answer_normalize (src/sdg/sdg_answer.h). */
#include "sdg/sdg_answer.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: answer_check CASES.jsonl\n"); return 2; }
    FILE *f = fopen(argv[1], "r");
    if (!f) { perror(argv[1]); return 2; }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        char err[256];
        cJSON *c = nt_json_parse(line, (size_t)n, err, sizeof err);
        if (!c) { fprintf(stderr, "%s:%d: %s\n", argv[1], lineno, err); return 2; }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "text"), *s = cJSON_GetObjectItemCaseSensitive(c, "normalize");
        cJSON *o = nt_json_object();
        if (cJSON_IsString(t)) {
            int how;
            char *a = nt_answer_extract(t->valuestring, &how);
            nt_json_str(o, "how", nt_answer_how_name(how));
            if (a) nt_json_str(o, "answer", a);
            else nt_json_null(o, "answer");
            free(a);
        } else if (cJSON_IsString(s)) {
            char *z = nt_answer_normalize(s->valuestring);
            nt_json_str(o, "normalized", z);
            free(z);
        } else { fprintf(stderr, "%s:%d: neither \"text\" nor \"normalize\"\n", argv[1], lineno); return 2; }
        char *p = cJSON_PrintUnformatted(o);
        puts(p);
        free(p);
        cJSON_Delete(o);
        cJSON_Delete(c);
    }
    free(line);
    fclose(f);
    return 0;
}
