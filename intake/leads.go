package intake

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/leadtriage/leadtriage/triage"
)

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the raw body>" keyed
// with an intake secret, for senders that sign instead of sending the secret.
const SignatureHeader = "X-Leadtriage-Signature"

type submitted struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// handleLeads is POST /leads. The order of checks is deliberate: cheap
// refusals (rate, size) before reading the body, authentication before
// anything that tells the sender about the body, and 2xx only after the
// store committed.
func (s *Server) handleLeads(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	if len(s.secrets) == 0 {
		s.count(resultNotConfigured)
		writeError(w, http.StatusServiceUnavailable, "intake not configured")
		return
	}
	if wait, ok := s.limiter.allow(clientIP(r), s.cfg.Now()); !ok {
		s.count(resultRateLimited)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(w, http.StatusTooManyRequests, "too many requests, retry later")
		return
	}
	if r.ContentLength > MaxBody {
		s.tooLarge(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.tooLarge(w)
			return
		}
		s.count(resultBadRequestBody)
		writeError(w, http.StatusBadRequest, "could not read the body")
		return
	}
	if !s.authorized(r.Header, body) {
		s.count(resultUnauthorized)
		w.Header().Set("WWW-Authenticate", `Bearer realm="leadtriage"`)
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	in, err := ParseLead(r.Header.Get("Content-Type"), body)
	if err != nil {
		if errors.Is(err, ErrUnsupportedMediaType) {
			s.count(resultUnsupported)
			writeError(w, http.StatusUnsupportedMediaType, "the body must be application/json or application/x-www-form-urlencoded (UTF-8)")
			return
		}
		s.badRequest(w, err)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	lead, created, err := s.svc.Submit(ctx, in, triage.Submission{
		IdempotencyKey: r.Header.Get("Idempotency-Key"),
		Via:            "webhook",
	})
	var fe *triage.FieldError
	switch {
	case err == nil:
	case errors.As(err, &fe):
		s.badRequest(w, err)
		return
	case errors.Is(err, triage.ErrIdempotencyKey):
		s.count(resultIdempotency)
		writeError(w, http.StatusUnprocessableEntity, triage.Message(err))
		return
	default:
		s.count(resultStoreError)
		s.log.Error("storing a lead from the webhook", "err", err)
		w.Header().Set("Retry-After", storeRetryAfter)
		writeError(w, http.StatusServiceUnavailable, "temporarily unable to store the lead, please retry")
		return
	}

	status := http.StatusOK
	result := resultRepeat
	if created {
		status, result = http.StatusCreated, resultCreated
		s.log.Info("lead accepted", "lead_id", lead.ID.String(), "source", lead.Source)
	} else {
		s.log.Info("lead submitted again", "lead_id", lead.ID.String(), "source", lead.Source)
	}
	s.count(result)
	w.Header().Set("Location", "/api/leads/"+lead.ID.String())
	writeJSON(w, status, submitted{ID: lead.ID.String(), Status: string(lead.Status)})
}

func (s *Server) tooLarge(w http.ResponseWriter) {
	s.count(resultTooLarge)
	writeError(w, http.StatusRequestEntityTooLarge, "body too large (at most 64 KiB)")
}

func (s *Server) badRequest(w http.ResponseWriter, err error) {
	s.count(resultInvalid)
	var fe *triage.FieldError
	if !errors.As(err, &fe) {
		writeFieldError(w, http.StatusBadRequest, "invalid request", "")
		return
	}
	msg := fe.Problem
	if fe.Field != "" {
		msg = fe.Error()
	}
	writeFieldError(w, http.StatusBadRequest, msg, fe.Field)
}

func (s *Server) count(result string) {
	s.requests.WithLabelValues(result).Inc()
}

// authorized checks the bearer secret or the body's HMAC against every
// configured secret, in constant time, without stopping at the first match.
func (s *Server) authorized(h http.Header, body []byte) bool {
	ok := 0
	if token, found := bearer(h); found {
		d := sha256.Sum256([]byte(token))
		for _, want := range s.digests {
			// Comparing digests keeps the secret's length out of the timing too.
			ok |= subtle.ConstantTimeCompare(d[:], want[:])
		}
	}
	if sig, found := strings.CutPrefix(h.Get(SignatureHeader), "sha256="); found {
		got, err := hex.DecodeString(strings.TrimSpace(sig))
		if err == nil && len(got) == sha256.Size {
			for _, key := range s.secrets {
				m := hmac.New(sha256.New, key)
				m.Write(body)
				if hmac.Equal(got, m.Sum(nil)) {
					ok |= 1
				}
			}
		}
	}
	return ok == 1
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(h http.Header) (string, bool) {
	scheme, token, found := strings.Cut(h.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Sign returns the X-Leadtriage-Signature value for body under secret, for
// senders and tests.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
