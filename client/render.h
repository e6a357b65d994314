/*
 * render: the human-readable face of the client. Turns the daemon's result
 * objects (docs/protocol.md) into lines for a terminal: a short text on one
 * line, a document sentence by sentence coloured by stance, then its summary;
 * and any other reply as indented "key: value" lines. Output is wrapped to
 * the terminal's width and stripped of control characters, since sentence
 * text comes from whoever wrote the document.
 */
#ifndef STANCE_RENDER_H
#define STANCE_RENDER_H

#include <stdio.h>
#include <cjson/cJSON.h>

struct render_style {
    int color;   /* 1: emit ANSI colour and bold/dim */
    int width;   /* columns to wrap at */
};

/* Fills *s for output to out. color_opt is -1 for automatic (colour when
 * out is a terminal, NO_COLOR is unset or empty, and TERM is not "dumb"),
 * 0 for never, 1 for always. The width is the terminal's, else $COLUMNS,
 * else 80, kept within readable bounds. */
void render_style_init(struct render_style *s, FILE *out, int color_opt);

/* Prints one classify result (an element of the reply's "results") for a
 * reader. A result with more than one sentence is shown as a document;
 * anything else on one line holding text, the input (its preview closes the
 * line). index and total number the inputs when total > 1. */
void render_result(FILE *out, const struct render_style *s, const cJSON *result,
                   const char *text, size_t index, size_t total);

/* Prints the JSON value v as indented "key: value" lines, nested objects
 * one level deeper, arrays of scalars on one line. For replies whose
 * fields the client does not interpret (models, stats). */
void render_tree(FILE *out, const struct render_style *s, const cJSON *v, int indent);

/* The SGR sequence that colours a label ("escalatory" red, "distrustful"
 * yellow, "conciliatory" green, "neutral" dim), or "" when the label has no
 * colour or s->color is 0. */
const char *render_label_color(const struct render_style *s, const char *label);

/* Resets attributes after render_label_color or render_bold: "" without colour. */
const char *render_reset(const struct render_style *s);
const char *render_bold(const struct render_style *s);

#endif
