#ifndef KLTOP_CNUMBERS_H
#define KLTOP_CNUMBERS_H

/// strtod in the "C" locale, whatever locale the process runs in: glibc's strtod is correctly rounded,
/// but reads the decimal separator from LC_NUMERIC, which a terminal program sets from the user's locale.
double kltop_strtod_c(const char *text, char **end);

#endif
