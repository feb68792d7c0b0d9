// The pure C++ zone: code under extension/src/core/ includes no PostgreSQL header, so it
// is unit tested without a server and can never be left by a longjmp. Every core .cpp
// includes this header last; if postgres.h (or c.h) came in through any include above,
// the build fails here. (The boundary includes core headers after postgres.h, which is
// allowed: the rule is about what the core itself depends on.)
#pragma once

#if defined(POSTGRES_H) || defined(C_H) || defined(PG_VERSION_NUM)
#error "baton core: a PostgreSQL header was included in the pure C++ zone"
#endif
