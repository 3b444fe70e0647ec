// The page at /: phone -> code -> profile -> invite code -> referred users -> sign out.
//
// Every sentence shown comes from the <template id="messages"> the server
// renders (referrals/entrypoints/http/page_texts.py): this file holds ids, never
// sentences. The session lives in the HttpOnly cookie the API sets; this
// script keeps only the short-lived login token, in memory, and stores nothing.

const $ = (id) => document.getElementById(id);
const API = document.querySelector('meta[name="referrals-api"]').content.replace(/\/+$/, "");
const MESSAGES = readMessages();
const STEPS = ["step-phone", "step-code", "step-profile"];
const PAGE_SIZES = { min: 1, max: 1000 };
const state = { phone: "", token: null, limit: 25, cursors: [null], index: 0 };
const timers = new Map();
let otpWait = null;

function readMessages() {
  const found = new Map();
  for (const node of $("messages").content.querySelectorAll("[data-id]")) {
    found.set(node.dataset.id, node.textContent);
  }
  return found;
}

/** The message `id` with its {placeholders} filled from `params`. */
function t(id, params = {}) {
  const text = MESSAGES.get(id);
  if (text === undefined) {
    console.error("missing message", id);
    return id;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Seconds as m:ss, the same in every language. */
function clock(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

// --- timers: countdowns that end by themselves or when their step is left ----

function startTimer(name, seconds, tick, done) {
  stopTimer(name);
  const deadline = performance.now() + seconds * 1000;
  let shown = null;
  const step = () => {
    const left = (deadline - performance.now()) / 1000;
    if (left <= 0) {
      stopTimer(name);
      done();
      return;
    }
    if (Math.ceil(left) !== shown) {
      shown = Math.ceil(left);
      tick(left);
    }
  };
  timers.set(name, setInterval(step, 250));
  step();
}

function stopTimer(name) {
  clearInterval(timers.get(name));
  timers.delete(name);
}

function stopAllTimers() {
  for (const name of [...timers.keys()]) stopTimer(name);
}

// --- talking to the API ------------------------------------------------------

function retryAfter(value) {
  if (!value) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(1, (when - Date.now()) / 1000);
}

/** One API call with the session cookie; never throws. */
async function call(method, path, body) {
  const init = {
    method,
    credentials: "same-origin",
    cache: "no-store",
    headers: {
      Accept: "application/json, application/problem+json",
      // The API's refusals in the page's own language, whatever the browser's order.
      "Accept-Language": document.documentElement.lang || "en",
    },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch {
    return { ok: false, status: 0, data: null, retryAfter: null };
  }
  let data = null;
  if (/json/i.test(response.headers.get("Content-Type") || "")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  return {
    ok: response.ok,
    status: response.status,
    data,
    retryAfter: retryAfter(response.headers.get("Retry-After")),
  };
}

/** Run `work` with `button` disabled and its form marked busy. */
async function busy(button, work) {
  const form = button.form;
  button.disabled = true;
  form?.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    form?.removeAttribute("aria-busy");
  }
}

// --- what people read: status, errors -----------------------------------------

function say(text) {
  $("status").textContent = text;
}

function announce(text) {
  const region = $("alert");
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

function problem(result) {
  return result.data && typeof result.data === "object" ? result.data : {};
}

/** A refusal in words: the server's own detail, else what is known. */
function describe(result) {
  if (result.status === 0) return t("network_error");
  const found = problem(result);
  let text = found.detail || found.title;
  if (!text) return t("http_error", { status: result.status });
  text = String(text);
  if (Number.isInteger(found.attempts_left)) {
    text += ` ${t("attempts_left", { attempts_left: found.attempts_left })}`;
  }
  return text;
}

function setError(element, text) {
  element.textContent = text;
  element.hidden = !text;
}

function clearErrors(form) {
  if (timers.has(`retry:${form.id}`)) {
    stopTimer(`retry:${form.id}`);
    form.querySelector("[type=submit]").disabled = false;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const element of form.querySelectorAll(".error")) setError(element, "");
}

/** Keep `button` disabled for a 429's Retry-After, counting down in `element`. */
function hold(name, button, element, seconds) {
  const base = element.textContent;
  startTimer(
    `retry:${name}`,
    seconds,
    (left) => {
      button.disabled = true;
      element.textContent = `${base} ${t("retry_in", { time: clock(left) })}`;
    },
    () => {
      button.disabled = false;
      element.textContent = `${base} ${t("retry_now")}`;
      announce(t("retry_now"));
    },
  );
}

/** Show a refusal next to the fields of `form` it names (else its main field). */
function showProblem(form, result) {
  clearErrors(form);
  say("");
  const main = form.dataset.field;
  const found = problem(result);
  const byField = new Map();
  const add = (name, text) => byField.set(name, [...(byField.get(name) || []), text]);
  if (Array.isArray(found.errors) && found.errors.length > 0) {
    for (const error of found.errors) {
      const name = form.elements.namedItem(error.field) ? error.field : main;
      add(name, String(error.message || describe(result)));
    }
  } else {
    add(main, describe(result));
  }
  let first = null;
  for (const [name, texts] of byField) {
    const input = form.elements.namedItem(name);
    input.setAttribute("aria-invalid", "true");
    setError($(`${name}-error`), texts.join(" "));
    first ??= input;
  }
  announce([...byField.values()].flat().join(" "));
  if (result.status === 429 && result.retryAfter) {
    hold(form.id, form.querySelector("[type=submit]"), $(`${main}-error`), result.retryAfter);
  }
  first.focus();
}

/** Show a refusal of an action that is not a form (resend, paging, sign out). */
function showActionProblem(name, button, element, result) {
  say("");
  setError(element, describe(result));
  announce(element.textContent);
  if (result.status === 429 && result.retryAfter) hold(name, button, element, result.retryAfter);
}

function required(form, name) {
  const input = form.elements.namedItem(name);
  if (input.value.trim()) return input.value.trim();
  clearErrors(form);
  input.setAttribute("aria-invalid", "true");
  setError($(`${name}-error`), t("required"));
  announce(t("required"));
  input.focus();
  return null;
}

// --- steps ---------------------------------------------------------------------

function show(step, focus) {
  for (const id of STEPS) $(id).hidden = id !== step;
  focus?.focus();
}

// WebOTP (https://wicg.github.io/web-otp/): where the browser has it, an SMS
// whose last line is "@<this host> #<code>" hands the code to this page, which
// fills it in and signs in. Elsewhere the field's autocomplete="one-time-code"
// lets the keyboard offer it, or the person types it.
function awaitOtp() {
  stopOtp();
  if (!("OTPCredential" in window) || !navigator.credentials?.get) return;
  const wait = new AbortController();
  otpWait = wait;
  navigator.credentials
    .get({ otp: { transport: ["sms"] }, signal: wait.signal })
    .then((otp) => {
      if (otpWait !== wait || !otp?.code || $("step-code").hidden) return;
      $("confirm_code").value = otp.code;
      $("code-form").requestSubmit();
    })
    .catch(() => {}); // stopped, refused or no SMS: the person types the code
}

function stopOtp() {
  otpWait?.abort();
  otpWait = null;
}

function startChallenge(answer) {
  state.phone = answer.user.phone;
  state.token = answer.token;
  const form = $("code-form");
  clearErrors(form);
  setError($("resend-error"), "");
  stopTimer("retry:resend");
  $("code-sent").textContent = t("code_sent", { phone: answer.user.phone });
  const input = $("confirm_code");
  const exposed = typeof answer.confirm_code === "string";
  input.value = exposed ? answer.confirm_code : "";
  $("dev-note").textContent = exposed ? t("dev_code_filled") : "";
  $("dev-note").hidden = !exposed;
  startTimer(
    "expiry",
    answer.expires_in,
    (left) => {
      $("code-expiry").textContent = t("code_valid_for", { time: clock(left) });
    },
    () => {
      $("code-expiry").textContent = t("code_expired");
      announce(t("code_expired"));
    },
  );
  const resend = $("resend");
  startTimer(
    "resend",
    answer.resend_after,
    (left) => {
      resend.disabled = true;
      $("resend-wait").textContent = t("resend_in", { time: clock(left) });
    },
    () => {
      resend.disabled = false;
      $("resend-wait").textContent = "";
    },
  );
  say("");
  show("step-code", input);
  awaitOtp();
}

function renderFacts(profile, { keepForm = false } = {}) {
  $("profile-phone").textContent = profile.phone;
  $("profile-invite").textContent = profile.invite_referral_code;
  $("profile-used").textContent = profile.used_referral_code ?? t("no_code_used");
  if (!keepForm) $("apply-form").hidden = profile.used_referral_code !== null;
  $("referrals-count").textContent = String(profile.referred_users_count);
}

function renderReferrals(profile) {
  const list = $("referrals-list");
  list.replaceChildren(
    ...profile.referred_users.map((phone) => {
      const item = document.createElement("li");
      item.textContent = phone;
      return item;
    }),
  );
  list.start = state.index * state.limit + 1;
  const empty = profile.referred_users_count === 0;
  $("referrals-empty").textContent = empty ? t("no_referrals") : "";
  $("referrals-empty").hidden = !empty;
  state.cursors[state.index + 1] = profile.next_cursor;
  $("previous-page").disabled = state.index === 0;
  $("next-page").disabled = !profile.next_cursor;
  $("page-number").textContent = pageOf();
  $("previous-page").parentElement.hidden = state.index === 0 && !profile.next_cursor;
}

function pageOf() {
  const count = Number($("referrals-count").textContent);
  const pages = Math.max(1, Math.ceil(count / state.limit), state.index + 1);
  return t("page_of", { page: state.index + 1, pages });
}

function clearProfile() {
  for (const id of ["profile-phone", "profile-invite", "profile-used", "page-number"]) {
    $(id).textContent = "";
  }
  $("referrals-list").replaceChildren();
  for (const id of ["referrals-error", "logout-error"]) setError($(id), "");
  clearErrors($("apply-form"));
  $("used_referral_code").value = "";
}

/** Load the current page of referred users (and the profile with it). */
async function loadReferrals() {
  const params = new URLSearchParams({ limit: String(state.limit) });
  const cursor = state.cursors[state.index];
  if (cursor) params.set("cursor", cursor);
  const result = await call("GET", `/profile/?${params}`);
  if (result.status === 401) {
    signedOut(t("session_ended"));
    return false;
  }
  if (!result.ok) {
    showActionProblem("pages", $("next-page"), $("referrals-error"), result);
    return false;
  }
  setError($("referrals-error"), "");
  renderFacts(result.data);
  renderReferrals(result.data);
  return true;
}

/** Show the profile the verify answer carried, then load the first page of people. */
async function enterProfile(profile) {
  state.cursors = [null];
  state.index = 0;
  clearProfile();
  renderFacts(profile);
  show("step-profile", $("apply-form").hidden ? $("profile-heading") : $("used_referral_code"));
  say(t("signed_in", { phone: profile.phone }));
  await Promise.all([loadReferrals(), loadSessions()]);
}

function signedOut(message) {
  stopAllTimers();
  state.token = null;
  state.phone = "";
  clearProfile();
  $("phone").value = "";
  clearErrors($("phone-form"));
  show("step-phone", $("phone"));
  say(message);
}

async function turnPage(delta, button) {
  const before = state.index;
  state.index = Math.max(0, state.index + delta);
  $("previous-page").disabled = true;
  $("next-page").disabled = true;
  if (!(await loadReferrals())) {
    state.index = before;
    $("previous-page").disabled = before === 0;
    $("next-page").disabled = !state.cursors[before + 1];
    return;
  }
  const other = delta > 0 ? $("previous-page") : $("next-page");
  if (button.disabled) (other.disabled ? $("referrals-heading") : other).focus();
  else button.focus();
  announce(pageOf());
}

// --- wiring ------------------------------------------------------------------------

$("phone-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const phone = required(form, "phone");
  if (phone === null) return;
  clearErrors(form);
  const button = form.querySelector("[type=submit]");
  const result = await busy(button, () => call("POST", "/login/", { phone }));
  if (result.ok) startChallenge(result.data);
  else showProblem(form, result);
});

$("code-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const code = required(form, "confirm_code");
  if (code === null) return;
  clearErrors(form);
  const button = form.querySelector("[type=submit]");
  const path = `/verify/${encodeURIComponent(state.token)}/`;
  const result = await busy(button, () => call("POST", path, { confirm_code: code }));
  if (!result.ok) {
    showProblem(form, result);
    return;
  }
  stopAllTimers();
  stopOtp();
  state.token = null;
  await enterProfile(result.data.user);
});

$("resend").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  setError($("resend-error"), "");
  const result = await busy(button, () => call("POST", "/login/", { phone: state.phone }));
  if (result.ok) startChallenge(result.data);
  else showActionProblem("resend", button, $("resend-error"), result);
});

$("change-phone").addEventListener("click", () => {
  stopAllTimers();
  stopOtp();
  state.token = null;
  clearErrors($("code-form"));
  show("step-phone", $("phone"));
});

$("apply-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const code = required(form, "used_referral_code");
  if (code === null) return;
  clearErrors(form);
  const button = form.querySelector("[type=submit]");
  const body = { used_referral_code: code };
  const result = await busy(button, () => call("POST", "/profile/", body));
  if (result.status === 401) {
    signedOut(t("session_ended"));
    return;
  }
  if (!result.ok) {
    showProblem(form, result);
    if (problem(result).code === "referral_already_applied") {
      // Applied from another tab or device: show which code, keep the refusal in view.
      const fresh = await call("GET", "/profile/?limit=1");
      if (fresh.ok) renderFacts(fresh.data, { keepForm: true });
    }
    return;
  }
  form.elements.namedItem("used_referral_code").value = "";
  renderFacts(result.data);
  $("profile-used").focus();
  say(t("applied", { code: result.data.used_referral_code }));
});

$("previous-page").addEventListener("click", (event) => turnPage(-1, event.currentTarget));
$("next-page").addEventListener("click", (event) => turnPage(1, event.currentTarget));

$("page-size").addEventListener("change", async (event) => {
  state.limit = Number(event.currentTarget.value);
  state.cursors = [null];
  state.index = 0;
  await loadReferrals();
});

$("logout").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const result = await busy(button, () => call("POST", "/logout/", {}));
  if (result.ok) signedOut(t("signed_out"));
  else showActionProblem("logout", button, $("logout-error"), result);
});

// --- one's account: sessions, a new number, deletion (docs/account.md) -----------

const account = { move: null, deletion: null };

function when(iso) {
  return new Date(iso).toLocaleString(document.documentElement.lang || "en");
}

async function loadSessions() {
  const result = await call("GET", "/sessions/");
  if (!result.ok) {
    showActionProblem("sessions", $("end-others"), $("sessions-error"), result);
    return;
  }
  setError($("sessions-error"), "");
  const sessions = result.data.sessions;
  $("sessions-list").replaceChildren(
    ...sessions.map((session) => {
      const item = document.createElement("li");
      const line = t("session_line", {
        agent: session.user_agent || t("unknown_device"),
        address: session.address || "?",
        seen: when(session.last_seen),
      });
      item.append(session.current ? `${line} (${t("this_device")})` : line);
      if (!session.current) {
        const end = document.createElement("button");
        end.type = "button";
        end.className = "secondary end-session";
        end.textContent = t("end_session");
        end.addEventListener("click", async () => {
          const path = `/sessions/${encodeURIComponent(session.id)}/`;
          const ended = await busy(end, () => call("DELETE", path));
          if (ended.ok || ended.status === 404) await loadSessions();
          else showActionProblem("sessions", end, $("sessions-error"), ended);
        });
        item.append(" ", end);
      }
      return item;
    }),
  );
  $("end-others").hidden = sessions.length < 2;
}

/** A step-up's code form: show it, and fill in the code when the server sent it back. */
function awaitStepCode(form, answer) {
  form.hidden = false;
  const input = form.elements.namedItem("confirm_code");
  input.value = answer.confirm_code || "";
  say(t("code_sent", { phone: answer.user.phone }));
  input.focus();
}

function stepError(form, result) {
  const element = form.querySelector(".error");
  showActionProblem(form.id, form.querySelector("[type=submit]"), element, result);
}

$("end-others").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const result = await busy(button, () => call("POST", "/sessions/revoke-others/", {}));
  if (!result.ok) {
    showActionProblem("sessions", button, $("sessions-error"), result);
    return;
  }
  say(t("sessions_ended", { count: result.data.revoked }));
  await loadSessions();
});

$("move-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const phone = form.elements.namedItem("phone").value.trim();
  if (!phone) return setError($("new_phone-error"), t("required"));
  setError($("new_phone-error"), "");
  const result = await busy(form.querySelector("[type=submit]"), () =>
    call("POST", "/profile/phone/", { phone }),
  );
  if (!result.ok) return stepError(form, result);
  account.move = result.data.token;
  awaitStepCode($("move-code-form"), result.data);
});

$("move-code-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const code = form.elements.namedItem("confirm_code").value.trim();
  const path = `/profile/phone/${encodeURIComponent(account.move)}/`;
  const result = await busy(form.querySelector("[type=submit]"), () =>
    call("POST", path, { confirm_code: code }),
  );
  if (!result.ok) return stepError(form, result);
  form.hidden = true;
  $("new_phone").value = "";
  renderFacts(result.data);
  say(t("number_changed", { phone: result.data.phone }));
  await loadSessions();
});

$("delete-account").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const result = await busy(button, () => call("POST", "/profile/delete/"));
  if (!result.ok) return showActionProblem("delete", button, $("delete-error"), result);
  setError($("delete-error"), "");
  account.deletion = result.data.token;
  awaitStepCode($("delete-code-form"), result.data);
});

$("delete-code-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const code = form.elements.namedItem("confirm_code").value.trim();
  const path = `/profile/delete/${encodeURIComponent(account.deletion)}/`;
  const result = await busy(form.querySelector("[type=submit]"), () =>
    call("POST", path, { confirm_code: code }),
  );
  if (!result.ok) return stepError(form, result);
  form.hidden = true;
  signedOut(t("account_deleted"));
});

/** `?limit=N` on the page's own URL picks the page size (1..1000). */
function pageSizeFromUrl() {
  const select = $("page-size");
  const asked = Number(new URLSearchParams(location.search).get("limit"));
  if (Number.isInteger(asked) && asked >= PAGE_SIZES.min && asked <= PAGE_SIZES.max) {
    if (![...select.options].some((option) => Number(option.value) === asked)) {
      select.add(new Option(String(asked), String(asked)));
    }
    select.value = String(asked);
  }
  state.limit = Number(select.value);
}

/** On load: resume the session the cookie may still hold, else ask for a phone. */
async function resume() {
  pageSizeFromUrl();
  const params = new URLSearchParams({ limit: String(state.limit) });
  const result = await call("GET", `/profile/?${params}`);
  if (result.ok) {
    renderFacts(result.data);
    renderReferrals(result.data);
    show("step-profile");
    say(t("signed_in", { phone: result.data.phone }));
    await loadSessions();
  } else {
    show("step-phone");
    if (result.status !== 401) say(describe(result));
  }
  document.body.dataset.ready = "true";
}

$("profile-used").tabIndex = -1;
$("referrals-heading").tabIndex = -1;
resume();
