/* resources_text.c — the text form of resource sets (see resources.h):
 * `cpus:4;mem:8192;ports:[31000-32000];disks:{a,b}`, with optional `(role)`.
 *
 * Every error names the resource token as written (trimmed) and the reason, so that
 * an operator can find the mistake in a long --resources flag. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources_internal.h"

/* ---- Small string helpers --------------------------------------------------------- */

struct span {
	const char *p;
	size_t n;
};

static struct span trim(const char *p, size_t n)
{
	while (n > 0 && isspace((unsigned char)p[0])) {
		p++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	return (struct span){p, n};
}

static char *span_dup(struct span s)
{
	return strndup(s.p, s.n);
}

/* Finds c in s; returns its offset or s.n. */
static size_t span_find(struct span s, char c)
{
	const char *q = memchr(s.p, c, s.n);
	return q ? (size_t)(q - s.p) : s.n;
}

/* ---- Parsing ---------------------------------------------------------------------- */

/* Everything the parser of one token needs to report an error. */
struct tok {
	struct span text; /* the whole token, trimmed */
	char *err;
	size_t errlen;
};

static int tok_error(const struct tok *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int tok_error(const struct tok *t, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return px_errorf(t->err, t->errlen, PX_EINVAL, "resource '%.*s': %s", (int)t->text.n,
	                 t->text.p, why);
}

static const char *name_invalid_char(struct span s)
{
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c <= 0x20 || c == 0x7f || strchr("()[]{}:;,", c) != NULL)
			return &s.p[i];
	}
	return NULL;
}

static int parse_u64(struct span s, uint64_t *v)
{
	if (s.n == 0 || s.n > 20)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (!isdigit((unsigned char)s.p[i]))
			return -1;
		unsigned d = (unsigned)(s.p[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static int parse_scalar(const struct tok *t, struct span s, struct px_resource *e)
{
	char buf[64];
	bool ok = s.n > 0 && s.n < sizeof(buf);
	for (size_t i = 0; ok && i < s.n; i++)
		ok = isdigit((unsigned char)s.p[i]) || strchr(".eE+-", s.p[i]) != NULL;
	double v = 0;
	if (ok) {
		memcpy(buf, s.p, s.n);
		buf[s.n] = '\0';
		char *end;
		errno = 0;
		v = strtod(buf, &end);
		ok = *end == '\0' && end != buf;
		if (ok && errno == ERANGE && v != 0)
			return tok_error(t, "scalar '%s' is too large", buf);
	}
	if (!ok)
		return tok_error(t, "invalid scalar '%.*s'", (int)s.n, s.p);
	if (v < 0)
		return tok_error(t, "scalar '%s' is negative", buf);
	int rc = px_scalar_from_double(v, &e->scalar);
	if (rc == PX_ERANGE)
		return tok_error(t, "scalar '%s' is too large", buf);
	return rc == PX_OK ? PX_OK : tok_error(t, "invalid scalar '%s'", buf);
}

/* Parses the inside of [...]: "a-b, c, ...". */
static int parse_ranges(const struct tok *t, struct span s, struct px_resource *e)
{
	s = trim(s.p, s.n);
	if (s.n == 0)
		return PX_OK;
	size_t cap = PX__RANGES_MIN_CAP;
	size_t commas = 0;
	for (size_t i = 0; i < s.n; i++)
		commas += s.p[i] == ',';
	if (commas + 1 > cap)
		cap = commas + 1;
	e->ranges = malloc(cap * sizeof(*e->ranges));
	if (e->ranges == NULL)
		return PX_ENOMEM;
	e->cap_ranges = cap;
	size_t n = 0;
	for (;;) {
		size_t comma = span_find(s, ',');
		struct span item = trim(s.p, comma);
		if (item.n == 0)
			return tok_error(t, "empty range in ranges");
		size_t dash = span_find(item, '-');
		struct px_range r;
		if (parse_u64(trim(item.p, dash), &r.begin) != 0)
			return tok_error(t, "invalid range '%.*s'", (int)item.n, item.p);
		r.end = r.begin;
		if (dash < item.n &&
		    parse_u64(trim(item.p + dash + 1, item.n - dash - 1), &r.end) != 0)
			return tok_error(t, "invalid range '%.*s'", (int)item.n, item.p);
		if (r.begin > r.end)
			return tok_error(t, "range '%.*s' has begin greater than end", (int)item.n,
			                 item.p);
		e->ranges[n++] = r;
		if (comma == s.n)
			break;
		s.p += comma + 1;
		s.n -= comma + 1;
	}
	e->n_ranges = px__ranges_normalize(e->ranges, n);
	return PX_OK;
}

/* Parses the inside of {...}: "a, b, ...". */
static int parse_set(const struct tok *t, struct span s, struct px_resource *e)
{
	s = trim(s.p, s.n);
	if (s.n == 0)
		return PX_OK;
	size_t cap = 1;
	for (size_t i = 0; i < s.n; i++)
		cap += s.p[i] == ',';
	e->items = calloc(cap, sizeof(*e->items));
	if (e->items == NULL)
		return PX_ENOMEM;
	e->cap_items = cap;
	for (;;) {
		size_t comma = span_find(s, ',');
		struct span item = trim(s.p, comma);
		if (item.n == 0)
			return tok_error(t, "empty item in set");
		const char *bad = name_invalid_char(item);
		if (bad != NULL)
			return tok_error(t, "invalid character '%c' in set item '%.*s'", *bad,
			                 (int)item.n, item.p);
		e->items[e->n_items] = span_dup(item);
		if (e->items[e->n_items] == NULL)
			return PX_ENOMEM;
		e->n_items++;
		if (comma == s.n)
			break;
		s.p += comma + 1;
		s.n -= comma + 1;
	}
	size_t dup = px__items_sort(e->items, e->n_items);
	if (dup < e->n_items)
		return tok_error(t, "duplicate item '%s' in set", e->items[dup]);
	return PX_OK;
}

/* Parses one `name[(role)]:value` token and adds it to rs. */
static int parse_token(px_resources *rs, struct span text, const char *default_role, char *err,
                       size_t errlen)
{
	struct tok t = {text, err, errlen};
	size_t colon = span_find(text, ':');
	size_t paren = span_find(text, '(');
	struct span name, value;
	char *role = NULL;
	int rc = PX_OK;

	if (paren < colon) {
		struct span inner = {text.p + paren + 1, text.n - paren - 1};
		size_t close = paren + 1 + span_find(inner, ')');
		if (close == text.n)
			return tok_error(&t, "missing ')' after the role");
		struct span after = trim(text.p + close + 1, text.n - close - 1);
		if (after.n == 0 || after.p[0] != ':')
			return tok_error(&t, after.n == 0 ? "missing ':' before the value"
			                                  : "expected ':' after ')'");
		name = trim(text.p, paren);
		struct span rspan = trim(text.p + paren + 1, close - paren - 1);
		role = span_dup(rspan);
		if (role == NULL)
			return PX_ENOMEM;
		value = trim(after.p + 1, after.n - 1);
	} else {
		if (colon == text.n)
			return tok_error(&t, "missing ':' before the value");
		name = trim(text.p, colon);
		value = trim(text.p + colon + 1, text.n - colon - 1);
	}

	if (name.n == 0) {
		rc = tok_error(&t, "empty name");
		goto out;
	}
	const char *bad = name_invalid_char(name);
	if (bad != NULL) {
		rc = tok_error(&t, "invalid character '%c' in name", *bad);
		goto out;
	}
	const char *use_role = role ? role : default_role;
	if (use_role != NULL && strcmp(use_role, "*") == 0)
		use_role = NULL;
	if (use_role != NULL) {
		const char *why = px__role_invalid(use_role);
		if (why != NULL) {
			rc = tok_error(&t, "invalid role '%s': %s", use_role, why);
			goto out;
		}
	}
	if (value.n == 0) {
		rc = tok_error(&t, "empty value");
		goto out;
	}

	Plexus__Resource ident = PLEXUS__RESOURCE__INIT;
	Plexus__Resource__ReservationInfo resv = PLEXUS__RESOURCE__RESERVATION_INFO__INIT;
	Plexus__Resource__ReservationInfo *stack[1] = {&resv};
	if (value.p[0] == '[')
		ident.type = PLEXUS__VALUE__TYPE__RANGES;
	else if (value.p[0] == '{')
		ident.type = PLEXUS__VALUE__TYPE__SET;
	else
		ident.type = PLEXUS__VALUE__TYPE__SCALAR;
	if (use_role != NULL) {
		resv.has_type = 1;
		resv.type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__STATIC;
		resv.role = (char *)use_role;
		ident.n_reservations = 1;
		ident.reservations = stack;
	}
	char *cname = span_dup(name);
	if (cname == NULL) {
		rc = PX_ENOMEM;
		goto out;
	}
	struct px_resource e;
	rc = px__entry_init(&e, cname, &ident);
	free(cname);
	if (rc != PX_OK)
		goto out;

	switch (ident.type) {
	case PLEXUS__VALUE__TYPE__RANGES:
		if (value.p[value.n - 1] != ']')
			rc = tok_error(&t, "missing ']' at the end of ranges");
		else
			rc = parse_ranges(&t, (struct span){value.p + 1, value.n - 2}, &e);
		break;
	case PLEXUS__VALUE__TYPE__SET:
		if (value.p[value.n - 1] != '}')
			rc = tok_error(&t, "missing '}' at the end of set");
		else
			rc = parse_set(&t, (struct span){value.p + 1, value.n - 2}, &e);
		break;
	default:
		rc = parse_scalar(&t, value, &e);
		break;
	}
	if (rc != PX_OK) {
		px__entry_fini(&e);
		goto out;
	}
	rc = px__add_owned(rs, &e);
	if (rc == PX_ERANGE)
		px_errorf(err, errlen, rc, "resource '%.*s': sum is too large", (int)text.n,
		          text.p);
out:
	free(role);
	return rc;
}

int px_resources_parse(const char *text, const char *default_role, px_resources **out, char *err,
                       size_t errlen)
{
	if (text == NULL)
		return px_errorf(err, errlen, PX_EINVAL, "no resources text");
	struct span all = trim(text, strlen(text));
	if (all.n > 0 && all.p[0] == '[') {
		json_error_t jerr;
		json_t *j = json_loadb(all.p, all.n, 0, &jerr);
		if (j == NULL)
			return px_errorf(err, errlen, PX_EINVAL,
			                 "resources JSON, line %d column %d: %s", jerr.line,
			                 jerr.column, jerr.text);
		/* JSON carries its own reservations: default_role does not apply. */
		int rc = px_resources_from_json(j, out, err, errlen);
		json_decref(j);
		return rc;
	}
	px_resources *rs = px_resources_new();
	if (rs == NULL)
		return px_errorf(err, errlen, PX_ENOMEM, "out of memory");
	struct span rest = all;
	while (rest.n > 0) {
		size_t semi = span_find(rest, ';');
		struct span token = trim(rest.p, semi);
		if (token.n > 0) {
			int rc = parse_token(rs, token, default_role, err, errlen);
			if (rc != PX_OK) {
				if (rc == PX_ENOMEM)
					px_errorf(err, errlen, rc, "out of memory");
				px_resources_free(rs);
				return rc;
			}
		}
		if (semi == rest.n)
			break;
		rest.p += semi + 1;
		rest.n -= semi + 1;
	}
	*out = rs;
	return PX_OK;
}

/* ---- Formatting ------------------------------------------------------------------- */

/* A growing string; on allocation failure it remembers the failure and stops. */
struct sb {
	char *s;
	size_t n, cap;
	bool failed;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sb *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->failed = true;
			return;
		}
		if (b->s != NULL && b->n + (size_t)k < b->cap) {
			b->n += (size_t)k;
			return;
		}
		size_t cap = b->cap ? b->cap : 64;
		while (cap <= b->n + (size_t)k)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (s == NULL) {
			b->failed = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

char *px_scalar_format(int64_t milli, char *buf, size_t len)
{
	long long whole = (long long)(milli / 1000);
	long long frac = (long long)(milli % 1000);
	if (frac < 0)
		frac = -frac;
	if (frac == 0) {
		snprintf(buf, len, "%s%lld", milli < 0 && whole == 0 ? "-" : "", whole);
		return buf;
	}
	char digits[4];
	snprintf(digits, sizeof(digits), "%03lld", frac);
	int nd = 3;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	snprintf(buf, len, "%s%lld.%.*s", milli < 0 && whole == 0 ? "-" : "", whole, nd, digits);
	return buf;
}

char *px_resources_format(const px_resources *rs)
{
	struct sb b = {0};
	sb_printf(&b, "%s", "");
	for (size_t i = 0; i < rs->n; i++) {
		const struct px_resource *r = &rs->v[i];
		sb_printf(&b, "%s%s", i ? "; " : "", r->name);
		if (r->role != NULL)
			sb_printf(&b, "(%s)", r->role);
		if (r->flags & PX_RF_DYNAMIC)
			sb_printf(&b, "[dynamic]");
		if (r->n_reservations > 1)
			sb_printf(&b, "[refined]");
		if (r->persistence_id != NULL)
			sb_printf(&b, "[volume:%s]", r->persistence_id);
		else if (r->flags & PX_RF_DISK)
			sb_printf(&b, "[disk]");
		if (r->flags & PX_RF_REVOCABLE)
			sb_printf(&b, "[revocable]");
		if (r->flags & PX_RF_SHARED)
			sb_printf(&b, "[shared]");
		if (r->alloc_role != NULL)
			sb_printf(&b, "[allocated:%s]", r->alloc_role);
		sb_printf(&b, ":");
		switch (r->type) {
		case PX_SCALAR: {
			char num[32];
			sb_printf(&b, "%s", px_scalar_format(r->scalar, num, sizeof(num)));
			break;
		}
		case PX_RANGES:
			sb_printf(&b, "[");
			for (size_t k = 0; k < r->n_ranges; k++)
				sb_printf(&b, "%s%llu-%llu", k ? ", " : "",
				          (unsigned long long)r->ranges[k].begin,
				          (unsigned long long)r->ranges[k].end);
			sb_printf(&b, "]");
			break;
		default:
			sb_printf(&b, "{");
			for (size_t k = 0; k < r->n_items; k++)
				sb_printf(&b, "%s%s", k ? ", " : "", r->items[k]);
			sb_printf(&b, "}");
			break;
		}
	}
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
