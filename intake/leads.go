package intake

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

type submitted struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// handleLeads is POST /leads. The order of checks is deliberate: cheap
// refusals (a client out of tries, size) before reading the body,
// authentication before anything that tells the sender about the body, the
// authenticated rate before a signature is spent, and 2xx only after the
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
	ip, now := clientIP(r), s.cfg.Now()
	if wait, blocked := s.strangers.blocked(ip, now); blocked {
		s.rateLimited(w, wait)
		return
	}
	if r.ContentLength > MaxBody {
		s.strangerFailed(r.Header, ip, now)
		s.tooLarge(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		s.strangerFailed(r.Header, ip, now)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.tooLarge(w)
			return
		}
		s.count(resultBadRequestBody)
		writeError(w, http.StatusBadRequest, "could not read the body")
		return
	}
	var signed *signedRequest
	ok, wait, limited := s.strangers.attempt(ip, now, func() bool {
		if s.bearerValid(r.Header) {
			return true
		}
		var valid bool
		signed, valid = s.verifySignature(r.Header.Get(SignatureHeader), body, now)
		return valid
	})
	switch {
	case limited:
		s.rateLimited(w, wait)
		return
	case !ok:
		s.unauthorized(w, resultUnauthorized)
		return
	}
	if wait, ok := s.clients.allow(ip, now); !ok {
		s.rateLimited(w, wait)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	if signed != nil {
		first, err := s.ledger.SpendSignature(ctx, signed.id, signed.expires, now)
		if err != nil {
			s.storeFailed(w, "remembering an intake signature", err)
			return
		}
		if !first {
			s.strangers.fail(ip, now)
			s.log.Warn("intake signature used twice: refused as a replay")
			s.unauthorized(w, resultReplayed)
			return
		}
		if !s.submit(ctx, w, r, body) {
			// The request changed nothing, so its sender may retry it as
			// it is. If forgetting fails, the sender re-signs (a new t).
			if err := s.ledger.ReleaseSignature(context.WithoutCancel(ctx), signed.id, signed.expires); err != nil {
				s.log.Warn("forgetting the signature of a refused request", "error", err)
			}
		}
		return
	}
	s.submit(ctx, w, r, body)
}

// submit parses body and stores the lead; the caller authenticated it. It
// reports whether the answer was a 2xx (the lead is stored).
func (s *Server) submit(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte) bool {
	in, err := ParseLead(r.Header.Get("Content-Type"), body)
	if err != nil {
		if errors.Is(err, ErrUnsupportedMediaType) {
			s.count(resultUnsupported)
			writeError(w, http.StatusUnsupportedMediaType, "the body must be application/json or application/x-www-form-urlencoded (UTF-8)")
			return false
		}
		s.badRequest(w, err)
		return false
	}

	lead, created, err := s.svc.Submit(ctx, in, triage.Submission{
		IdempotencyKey: r.Header.Get("Idempotency-Key"),
		Via:            "webhook",
	})
	var fe *triage.FieldError
	switch {
	case err == nil:
	case errors.As(err, &fe):
		s.badRequest(w, err)
		return false
	case errors.Is(err, triage.ErrIdempotencyKey):
		s.count(resultIdempotency)
		writeError(w, http.StatusUnprocessableEntity, "This Idempotency-Key was already used for a different lead.")
		return false
	default:
		s.storeFailed(w, "storing a lead from the webhook", err)
		return false
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
	return true
}

// strangerFailed costs ip a try for a request refused before it could
// authenticate (too large, unreadable), unless it carries the right bearer
// secret.
func (s *Server) strangerFailed(h http.Header, ip string, now time.Time) {
	if !s.bearerValid(h) {
		s.strangers.fail(ip, now)
	}
}

func (s *Server) rateLimited(w http.ResponseWriter, wait time.Duration) {
	s.count(resultRateLimited)
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	writeError(w, http.StatusTooManyRequests, "too many requests, retry later")
}

func (s *Server) unauthorized(w http.ResponseWriter, result string) {
	s.count(result)
	w.Header().Set("WWW-Authenticate", `Bearer realm="leadtriage"`)
	writeError(w, http.StatusUnauthorized, "unauthorized")
}

func (s *Server) storeFailed(w http.ResponseWriter, what string, err error) {
	s.count(resultStoreError)
	s.log.Error(what, "error", err)
	w.Header().Set("Retry-After", storeRetryAfter)
	writeError(w, http.StatusServiceUnavailable, "temporarily unable to store the lead, please retry")
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

// bearerValid checks an "Authorization: Bearer" secret against every
// configured secret, in constant time, without stopping at the first match.
func (s *Server) bearerValid(h http.Header) bool {
	token, found := bearer(h)
	if !found {
		return false
	}
	d := sha256.Sum256([]byte(token))
	ok := 0
	for _, want := range s.digests {
		// Comparing digests keeps the secret's length out of the timing too.
		ok |= subtle.ConstantTimeCompare(d[:], want[:])
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
