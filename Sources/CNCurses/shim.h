#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <langinfo.h>
#include <ncurses.h>
#include <wchar.h>
#include <string.h>

/* Globals and macros that Swift cannot import (or rejects as not concurrency-safe). */
static inline WINDOW *cnc_stdscr(void) { return stdscr; }
static inline attr_t cnc_a_bold(void) { return A_BOLD; }
static inline attr_t cnc_a_reverse(void) { return A_REVERSE; }
static inline attr_t cnc_a_underline(void) { return A_UNDERLINE; }
static inline attr_t cnc_a_dim(void) { return A_DIM; }
static inline int cnc_colors(void) { return COLORS; }
static inline int cnc_color_pairs(void) { return COLOR_PAIRS; }

/* Draws one character cell with attributes and a colour pair (extended pairs beyond 32767 included). */
static inline int cnc_put(WINDOW *window, int y, int x, unsigned int glyph, attr_t attributes, int pair) {
    cchar_t cell;
    wchar_t text[2] = {(wchar_t)glyph, 0};
    int extended = pair;
    setcchar(&cell, text, attributes, (short)(pair > 32767 ? 0 : pair), &extended);
    return mvwadd_wch(window, y, x, &cell);
}

/* Columns the C library (and so ncurses) gives a character in the current locale: -1 when it cannot be shown. */
static inline int cnc_wcwidth(unsigned int glyph) { return wcwidth((wchar_t)glyph); }

/* Whether the terminal can put the cursor anywhere (terminfo's cup). TERM=dumb cannot: ncurses starts on it
   all the same, and a full-screen program shows nothing. */
static inline int cnc_has_cursor_addressing(void) {
    const char *cup = tigetstr("cup");
    return cup != NULL && cup != (const char *)-1;
}

/* Reads one key: returns KEY_CODE_YES for a function key, OK for a character, ERR when none is waiting. */
static inline int cnc_get_key(WINDOW *window, unsigned int *key) {
    wint_t value = 0;
    int result = wget_wch(window, &value);
    *key = (unsigned int)value;
    return result;
}

/* Gives back a key cnc_get_key read, for the next read to return it. */
static inline void cnc_unget_key(int result, unsigned int key) {
    if (result == KEY_CODE_YES) ungetch((int)key);
    else unget_wch((wchar_t)key);
}

/* Reads back a cell (for tests that drive ncurses without a terminal). */
static inline unsigned int cnc_glyph_at(WINDOW *window, int y, int x) {
    cchar_t cell;
    wchar_t text[CCHARW_MAX + 1];
    attr_t attributes;
    short pair;
    if (mvwin_wch(window, y, x, &cell) == ERR) return 0;
    if (getcchar(&cell, text, &attributes, &pair, NULL) == ERR) return 0;
    return (unsigned int)text[0];
}

static inline int cnc_locale_is_utf8(void) {
    const char *codeset = nl_langinfo(CODESET);
    return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}
