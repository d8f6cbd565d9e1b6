// Wide-character ncurses for the playground, plus inline wrappers for the macros
// Swift cannot import (function-like macros and attribute bit constants).
#ifndef EXITLENS_CNCURSES_SHIM_H
#define EXITLENS_CNCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <ncursesw/curses.h>
#include <locale.h>
#include <stdio.h>

static inline int cn_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int cn_attr_bold(void) { return (int)A_BOLD; }
static inline int cn_attr_dim(void) { return (int)A_DIM; }
static inline int cn_attr_underline(void) { return (int)A_UNDERLINE; }
static inline int cn_attr_reverse(void) { return (int)A_REVERSE; }
static inline int cn_attr_normal(void) { return (int)A_NORMAL; }
static inline int cn_key_f(int n) { return KEY_F(n); }
static inline WINDOW *cn_stdscr(void) { return stdscr; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_cols(void) { return COLS; }
static inline int cn_colors(void) { return COLORS; }
static inline int cn_color_pairs(void) { return COLOR_PAIRS; }
/* newterm on the process's stdout/stdin (Swift cannot touch the C globals safely). */
static inline SCREEN *cn_newterm_stdio(void) { return newterm(NULL, stdout, stdin); }
static inline void cn_set_escdelay(int ms) { set_escdelay(ms); }
#endif
