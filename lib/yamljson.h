/*
 * yamljson: bundle manifests are YAML on disk and cJSON trees in memory,
 * so that the daemon can hand a manifest to clients as it is. Block YAML
 * is written; any YAML that maps onto JSON is read.
 */
#ifndef STANCE_YAMLJSON_H
#define STANCE_YAMLJSON_H

#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

/* Parses the single YAML document in path into a cJSON tree. Plain
 * scalars that read as numbers, true/false or null become those; quoted
 * scalars stay strings. Anchors and aliases are refused. Returns NULL with
 * err filled ("path:LINE: ..."). Caller owns the result (cJSON_Delete). */
cJSON *yaml_load_json(const char *path, char *err, size_t errlen);

/* Writes the object j as block YAML; arrays of scalars are written in flow
 * style. Strings are double-quoted with JSON escapes, which YAML reads
 * back unchanged. */
void yaml_write_json(FILE *fp, const cJSON *j);

#endif
