/**
 * The ef_vi backend ({@code efvi:} URIs): see {@link io.bypass.efvi.EfviBackendProvider}.
 */
package io.bypass.efvi;
