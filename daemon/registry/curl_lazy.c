/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl, loaded at the first call (see lazy_sym in common/common.h): one wrapper per function
 * the registry module uses, with libcurl's own prototypes, so the compiler checks each one. A
 * function not listed here is a link error: add its wrapper.
 */
#define CURL_DISABLE_TYPECHECK /* the wrappers define curl_easy_setopt itself */
#include "common/common.h"

#include <string.h>

#include <curl/curl.h>

static struct lazy_lib lib_curl = LAZY_LIB_INIT(BERTH_CURL_SONAME);

/*
 * The variadic setters take one argument whose type the option's number tells, as libcurl
 * reads it: a long, an object pointer, a function pointer or a curl_off_t.
 */
CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    LAZY_FN(&lib_curl, curl_easy_setopt);
    va_list ap;
    va_start(ap, opt);
    CURLcode r;
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        r = lazy_f_(h, opt, va_arg(ap, long));
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        r = lazy_f_(h, opt, va_arg(ap, void *));
    else if (opt < CURLOPTTYPE_OFF_T)
        r = lazy_f_(h, opt, va_arg(ap, void (*)(void)));
    else if (opt < CURLOPTTYPE_BLOB)
        r = lazy_f_(h, opt, va_arg(ap, curl_off_t));
    else
        r = lazy_f_(h, opt, va_arg(ap, void *));
    va_end(ap);
    return r;
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
    LAZY_FN(&lib_curl, curl_multi_setopt);
    va_list ap;
    va_start(ap, opt);
    CURLMcode r;
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        r = lazy_f_(m, opt, va_arg(ap, long));
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        r = lazy_f_(m, opt, va_arg(ap, void *));
    else if (opt < CURLOPTTYPE_OFF_T)
        r = lazy_f_(m, opt, va_arg(ap, void (*)(void)));
    else
        r = lazy_f_(m, opt, va_arg(ap, curl_off_t));
    va_end(ap);
    return r;
}

/* every CURLINFO_* takes a pointer */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    LAZY_FN(&lib_curl, curl_easy_getinfo);
    va_list ap;
    va_start(ap, info);
    CURLcode r = lazy_f_(h, info, va_arg(ap, void *));
    va_end(ap);
    return r;
}

void curl_easy_cleanup(CURL *a0)
{
    LAZY_FN(&lib_curl, curl_easy_cleanup);
    lazy_f_(a0);
}

CURL *curl_easy_init(void)
{
    LAZY_FN(&lib_curl, curl_easy_init);
    return lazy_f_();
}

CURLcode curl_easy_pause(CURL *a0, int a1)
{
    LAZY_FN(&lib_curl, curl_easy_pause);
    return lazy_f_(a0, a1);
}

const char *curl_easy_strerror(CURLcode a0)
{
    LAZY_FN(&lib_curl, curl_easy_strerror);
    return lazy_f_(a0);
}

void curl_free(void *a0)
{
    LAZY_FN(&lib_curl, curl_free);
    lazy_f_(a0);
}

CURLMcode curl_multi_add_handle(CURLM *a0, CURL *a1)
{
    LAZY_FN(&lib_curl, curl_multi_add_handle);
    return lazy_f_(a0, a1);
}

CURLMcode curl_multi_assign(CURLM *a0, curl_socket_t a1, void *a2)
{
    LAZY_FN(&lib_curl, curl_multi_assign);
    return lazy_f_(a0, a1, a2);
}

CURLMcode curl_multi_cleanup(CURLM *a0)
{
    LAZY_FN(&lib_curl, curl_multi_cleanup);
    return lazy_f_(a0);
}

CURLMsg *curl_multi_info_read(CURLM *a0, int *a1)
{
    LAZY_FN(&lib_curl, curl_multi_info_read);
    return lazy_f_(a0, a1);
}

CURLM *curl_multi_init(void)
{
    LAZY_FN(&lib_curl, curl_multi_init);
    return lazy_f_();
}

CURLMcode curl_multi_remove_handle(CURLM *a0, CURL *a1)
{
    LAZY_FN(&lib_curl, curl_multi_remove_handle);
    return lazy_f_(a0, a1);
}

CURLMcode curl_multi_socket_action(CURLM *a0, curl_socket_t a1, int a2, int *a3)
{
    LAZY_FN(&lib_curl, curl_multi_socket_action);
    return lazy_f_(a0, a1, a2, a3);
}

struct curl_slist *curl_slist_append(struct curl_slist *a0, const char *a1)
{
    LAZY_FN(&lib_curl, curl_slist_append);
    return lazy_f_(a0, a1);
}

void curl_slist_free_all(struct curl_slist *a0)
{
    LAZY_FN(&lib_curl, curl_slist_free_all);
    lazy_f_(a0);
}

CURLU *curl_url(void)
{
    LAZY_FN(&lib_curl, curl_url);
    return lazy_f_();
}

void curl_url_cleanup(CURLU *a0)
{
    LAZY_FN(&lib_curl, curl_url_cleanup);
    lazy_f_(a0);
}

CURLUcode curl_url_get(CURLU *a0, CURLUPart a1, char **a2, unsigned int a3)
{
    LAZY_FN(&lib_curl, curl_url_get);
    return lazy_f_(a0, a1, a2, a3);
}

CURLUcode curl_url_set(CURLU *a0, CURLUPart a1, const char *a2, unsigned int a3)
{
    LAZY_FN(&lib_curl, curl_url_set);
    return lazy_f_(a0, a1, a2, a3);
}
