package playground

import (
	"fmt"
	"strconv"
	"time"
)

// Domain is what the loopback research fakes know about one domain: when
// RDAP says it was registered, whether DNS has mail servers for it, and its
// home page (Down: the site answers 503).
type Domain struct {
	Name       string
	Registered time.Duration // how long ago (RDAP registration event)
	Registrar  string
	NoDNS      bool // NXDOMAIN for MX and A: the e-mail domain does not exist
	Title      string
	Copyright  int // year in the footer; 0 = none
	Down       bool
}

// Sample is a realistic lead for "load sample leads": the fields POST /leads
// takes, as a web form would send them.
type Sample map[string]string

const year = 365 * 24 * time.Hour

// domains are the sample leads' domains. The hot-air cases live here: the
// "three-year-old" company whose domain is 40 days old.
func domains(now time.Time) []Domain {
	return []Domain{
		{Name: "vanderberglogistiek.nl", Registered: 29 * year, Registrar: "Realtime Register B.V.", Title: "Van der Berg Logistiek — warehousing en transport sinds 1998", Copyright: now.Year()},
		{Name: "brightwater-analytics.co.uk", Registered: 15 * year, Registrar: "Nominet UK", Title: "Brightwater Analytics | Retail forecasting", Copyright: now.Year()},
		{Name: "novabyte-solutions.nl", Registered: 40 * 24 * time.Hour, Registrar: "Hostnet B.V.", Title: "NovaByte Solutions — Coming soon", Copyright: now.Year()},
		{Name: "greenleaf-studio.nl", Registered: 3 * year, Registrar: "TransIP B.V.", Title: "Green Leaf Studio", Copyright: now.Year() - 1},
		{Name: "hendriks-installatie.nl", Registered: 21 * year, Registrar: "Realtime Register B.V.", Title: "Hendriks Installatietechniek | Warmtepompen en klimaat", Copyright: now.Year()},
		{Name: "oakridgedental.co.uk", Registered: 11 * year, Registrar: "Tucows Domains Inc.", Title: "Oakridge Dental Group — 14 practices across the Midlands", Copyright: now.Year()},
		{Name: "zorgpunt-utrecht.nl", Registered: 13 * year, Registrar: "SIDN Registrar Services", Title: "Stichting Zorgpunt Utrecht", Copyright: now.Year() - 2},
		{Name: "cloudpeak.io", Registered: 5 * year, Registrar: "Gandi SAS", Title: "CloudPeak Systems", Down: true},
		{Name: "fietsfabriek.amsterdam", Registered: 8 * year, Registrar: "Openprovider", Title: "De Fietsfabriek — e-bikes voor bedrijven", Copyright: now.Year()},
		{Name: "meridian-freight.example", NoDNS: true},
		{Name: "quickgrowth-ventures.com", Registered: 90 * 24 * time.Hour, Registrar: "NameCheap, Inc.", Title: "Quick Growth Ventures — 10x your revenue", Copyright: now.Year()},
		{Name: "gmail.com", Registered: 30 * year, Registrar: "MarkMonitor Inc."},
		{Name: "mailinator.com", Registered: 22 * year, Registrar: "GoDaddy.com, LLC"},
	}
}

// Samples are a dozen leads, Dutch and English, most of them sound and a
// few hot air: a "three-year-old" company on a 40-day-old domain, founders
// on free mail, a duplicate of an earlier lead, a disposable address, a
// domain that does not exist and a website that is down.
func Samples(now time.Time) []Sample {
	y := func(n int) string { return strconv.Itoa(now.Year() - n) }
	return []Sample{
		{"company": "Van der Berg Logistiek B.V.", "name": "Jeroen van der Berg", "email": "j.vanderberg@vanderberglogistiek.nl", "phone": "+31 10 412 7788", "website": "vanderberglogistiek.nl", "founded": "1998", "employees": "120", "source": "website", "message": "Wij zoeken een partner voor de planning van onze drie vestigingen. Kunt u volgende week bellen?"},
		{"company": "Brightwater Analytics Ltd", "name": "Sophie Turner", "email": "sophie.turner@brightwater-analytics.co.uk", "website": "https://brightwater-analytics.co.uk", "founded": "2012", "employees": "45", "source": "referral", "message": "We were referred by a customer of yours. Budget is approved for Q1; I'd like a demo for our ops team."},
		{"company": "NovaByte Solutions", "name": "Mark de Wit", "email": "mark@novabyte-solutions.nl", "website": "novabyte-solutions.nl", "founded": y(3), "employees": "25", "source": "website", "message": "We are a three-year-old software company with 25 people and want to scale our sales fast."},
		{"company": "Green Leaf Studio", "name": "Lisa and Tom Bakker", "email": "greenleafstudio.founders@gmail.com", "website": "greenleaf-studio.nl", "founded": y(2), "employees": "2", "source": "linkedin", "message": "We run the studio next to our day jobs and would love to hear what you could do for us."},
		{"company": "Van der Berg Logistiek", "name": "Petra Smit", "email": "p.smit@vanderberglogistiek.nl", "website": "vanderberglogistiek.nl", "source": "event", "message": "Wij spraken elkaar op de Logistica beurs; graag een offerte."},
		{"company": "Quick Growth Ventures", "name": "Alex", "email": "ceo@mailinator.com", "website": "quickgrowth-ventures.com", "founded": y(10), "employees": "200", "source": "website", "message": "URGENT: we need 500 licences this week, send the contract."},
		{"company": "Hendriks Installatietechniek B.V.", "name": "Marloes Hendriks", "email": "info@hendriks-installatie.nl", "phone": "+31 40 251 9090", "website": "hendriks-installatie.nl", "founded": "2006", "employees": "60", "source": "website", "message": "Onze monteurs plannen nu met Excel. Wat kost het voor 40 gebruikers?"},
		{"company": "Oakridge Dental Group", "name": "Dr. Priya Patel", "email": "priya.patel@oakridgedental.co.uk", "website": "oakridgedental.co.uk", "founded": "2016", "employees": "310", "source": "webinar", "message": "We have 14 practices and a patchwork of tools. Looking to consolidate by the summer."},
		{"company": "Stichting Zorgpunt Utrecht", "name": "Ahmed El Amrani", "email": "a.elamrani@zorgpunt-utrecht.nl", "website": "zorgpunt-utrecht.nl", "founded": "2014", "employees": "85", "source": "website", "message": "Wij zijn een zorginstelling en hebben beperkt budget. Is er een non-profit tarief?"},
		{"company": "CloudPeak Systems", "name": "Daniel Moore", "email": "daniel@cloudpeak.io", "website": "cloudpeak.io", "founded": y(4), "employees": "30", "source": "cold outreach reply", "message": "Interested, but our site is being rebuilt; happy to talk next month."},
		{"company": "De Fietsfabriek", "name": "Sanne de Jong", "email": "sanne@fietsfabriek.amsterdam", "website": "fietsfabriek.amsterdam", "founded": "2019", "employees": "18", "source": "website", "message": "We leasen e-bikes aan bedrijven en willen onze leads beter opvolgen."},
		{"company": "Meridian Freight Inc.", "name": "John Carter", "email": "john.carter@meridian-freight.example", "founded": "1985", "employees": "1200", "source": "website", "message": "Fortune 500 logistics firm, need an enterprise quote today."},
	}
}

// page is the home page the website fake serves for a domain.
func (d Domain) page() string {
	footer := ""
	if d.Copyright > 0 {
		footer = fmt.Sprintf("<footer>&copy; %d %s</footer>", d.Copyright, d.Title)
	}
	return fmt.Sprintf(`<!doctype html><html><head><title>%s</title>
<meta name="description" content="%s"></head>
<body><h1>%s</h1><a href="https://www.linkedin.com/company/%s">LinkedIn</a>%s</body></html>`,
		d.Title, d.Title, d.Title, d.Name, footer)
}
