#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <ncurses.h>
static inline WINDOW *cnc_stdscr(void) { return stdscr; }
static inline attr_t cnc_a_bold(void) { return A_BOLD; }
